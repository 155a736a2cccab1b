//! The study report: runs grouped into rows, each row's test errors summarised beside its
//! published figure, written as `report.md`, `results.csv` and `results.png`, and printed.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::ReproduceError;
use super::collect::{FoundRun, Outcome, settings_key};
use super::plan::row_run;
use super::stats::Summary;
use super::study::{Published, Study};
use crate::model::sda::LayerKind;
use crate::train::SdaRun;
use crate::viz::study_plot::{self, PlotRow};

/// One finished run of a row.
#[derive(Clone, Debug, PartialEq)]
pub struct Seeded {
    /// Its seed.
    pub seed: u64,
    /// What it achieved.
    pub outcome: Outcome,
}

/// A row of the report: the runs of one configuration.
#[derive(Clone, Debug)]
pub struct ReportRow {
    /// The row's name (`row` in a study, `study/row` when matched from elsewhere).
    pub name: String,
    /// What it is.
    pub label: String,
    /// The figure it is compared with.
    pub published: Option<Published>,
    /// The finished runs, by seed.
    pub runs: Vec<Seeded>,
    /// Runs found unfinished.
    pub unfinished: usize,
}

impl ReportRow {
    /// The test errors' summary (None without a finished run).
    pub fn test_errors(&self) -> Option<Summary> {
        Summary::of(&self.runs.iter().map(|r| r.outcome.test_error).collect::<Vec<_>>())
    }

    fn mean_of(&self, f: impl Fn(&Outcome) -> f64) -> Option<f64> {
        Summary::of(&self.runs.iter().map(|r| f(&r.outcome)).collect::<Vec<_>>()).map(|s| s.mean)
    }
}

/// The report of `runs`: grouped by `study`'s rows (from their directories `<row>/seed-<s>`)
/// when the runs are a study's, else by settings, each group named `study/row` after the study
/// row whose settings it has, or `other-<k>` (labelled with its settings) if none.
pub fn rows(study: Option<&Study>, runs: &[FoundRun]) -> Vec<ReportRow> {
    match study {
        Some(study) => study
            .rows
            .iter()
            .map(|row| {
                let mine: Vec<&FoundRun> =
                    runs.iter().filter(|r| r.row_dir.as_deref() == Some(row.name)).collect();
                report_row(row.name.into(), row.label.into(), row.published, &mine)
            })
            .collect(),
        None => {
            let mut groups: Vec<(Value, Vec<&FoundRun>)> = Vec::new();
            for run in runs {
                let key = run.settings_key();
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, group)) => group.push(run),
                    None => groups.push((key, vec![run])),
                }
            }
            // Study rows first, in the studies' order, then the others in path order.
            let mut others = 0;
            let mut named: Vec<((usize, usize), ReportRow)> = groups
                .into_iter()
                .map(|(_, group)| {
                    let first = group[0];
                    let (order, name, label, published) = match matching_row(first) {
                        Some((s, study, row)) => {
                            let r = study.rows[row].clone();
                            let name = format!("{}/{}", study.name, r.name);
                            ((s, row), name, r.label.into(), r.published)
                        }
                        None => {
                            others += 1;
                            let name = format!("other-{others}");
                            ((usize::MAX, others), name, describe(&first.run), None)
                        }
                    };
                    (order, report_row(name, label, published, &group))
                })
                .collect();
            named.sort_by_key(|(order, _)| *order);
            named.into_iter().map(|(_, row)| row).collect()
        }
    }
}

fn report_row(
    name: String,
    label: String,
    published: Option<Published>,
    runs: &[&FoundRun],
) -> ReportRow {
    let mut finished: Vec<Seeded> = runs
        .iter()
        .filter_map(|r| r.outcome.map(|outcome| Seeded { seed: r.run.seed, outcome }))
        .collect();
    finished.sort_by_key(|r| r.seed);
    let unfinished = runs.len() - finished.len();
    ReportRow { name, label, published, runs: finished, unfinished }
}

/// The study whose row has `run`'s settings, with the indices of the study and of the row.
fn matching_row(run: &FoundRun) -> Option<(usize, Study, usize)> {
    let key = run.settings_key();
    let (n_in, n_out) = (run.run.model.n_in, run.run.model.n_out);
    Study::all().enumerate().find_map(|(s, study)| {
        let row = study.rows.iter().position(|row| {
            row_run(row, run.split_sizes, n_in, n_out)
                .is_ok_and(|want| settings_key(&want, run.split_sizes) == key)
        })?;
        Some((s, study, row))
    })
}

/// A configuration in a few words, for runs that match no study row.
fn describe(run: &SdaRun) -> String {
    let m = &run.model;
    let sizes: Vec<String> = m.hidden.iter().map(|h| h.to_string()).collect();
    let layers = match m.layer {
        LayerKind::Da => {
            let c: Vec<String> = m.corruption.iter().map(|c| c.to_string()).collect();
            format!("dA layers, corruption {}", c.join("/"))
        }
        LayerKind::Cae => format!("cA layers, λ {}", m.contraction),
    };
    format!(
        "{}-{}-{}, {layers}, batch {}, pretraining {} epochs at {}, fine-tuning at {} (≤ {} epochs)",
        m.n_in,
        sizes.join("-"),
        m.n_out,
        run.batch,
        run.pretrain_epochs,
        run.pretrain_lr,
        run.finetune_lr,
        run.epochs
    )
}

fn pct(x: f64) -> String {
    format!("{x:.2}")
}

fn opt(x: Option<f64>) -> String {
    x.map_or("—".into(), pct)
}

/// The summary table in Markdown, one line per row.
pub fn table(rows: &[ReportRow]) -> String {
    let mut out = String::from(
        "| row | published test error % | n | mean test error % | sd | 95 % CI of the mean | min–max | published inside the CI | mean valid error % | mean epochs | mean minutes |\n\
         |---|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|\n",
    );
    for row in rows {
        let published = row.published.map(|p| pct(p.test_error));
        let line = match row.test_errors() {
            None => format!(
                "| {} | {} | 0 | — | — | — | — | — | — | — | — |",
                row.name,
                published.unwrap_or("—".into())
            ),
            Some(s) => {
                let ci = s.ci95.map_or("—".into(), |(lo, hi)| format!("{}–{}", pct(lo), pct(hi)));
                let inside = match row.published.and_then(|p| s.covers(p.test_error)) {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "—",
                };
                format!(
                    "| {} | {} | {} | {} | {} | {ci} | {}–{} | {inside} | {} | {:.1} | {:.1} |",
                    row.name,
                    published.unwrap_or("—".into()),
                    s.n,
                    pct(s.mean),
                    opt(s.sd),
                    pct(s.min),
                    pct(s.max),
                    opt(row.mean_of(|o| o.valid_error)),
                    row.mean_of(|o| o.epochs as f64).unwrap_or(0.0),
                    row.mean_of(|o| o.minutes).unwrap_or(0.0),
                )
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `results.csv`: one line per row (errors in %, empty where undefined).
pub fn csv(rows: &[ReportRow]) -> String {
    let mut out = String::from(
        "row,label,published_test_error,published_source,n,mean_test_error,sd,ci95_low,ci95_high,min,max,published_inside_ci,mean_valid_error,mean_epochs,mean_minutes,unfinished,seeds\n",
    );
    let num = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.4}"));
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for row in rows {
        let s = row.test_errors();
        let inside = row.published.zip(s).and_then(|(p, s)| s.covers(p.test_error));
        let seeds: Vec<String> = row.runs.iter().map(|r| r.seed.to_string()).collect();
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            quote(&row.name),
            quote(&row.label),
            num(row.published.map(|p| p.test_error)),
            quote(row.published.map_or("", |p| p.source)),
            s.map_or(0, |s| s.n),
            num(s.map(|s| s.mean)),
            num(s.and_then(|s| s.sd)),
            num(s.and_then(|s| s.ci95).map(|c| c.0)),
            num(s.and_then(|s| s.ci95).map(|c| c.1)),
            num(s.map(|s| s.min)),
            num(s.map(|s| s.max)),
            inside.map_or(String::new(), |b| b.to_string()),
            num(row.mean_of(|o| o.valid_error)),
            num(row.mean_of(|o| o.epochs as f64)),
            num(row.mean_of(|o| o.minutes)),
            row.unfinished,
            seeds.join(" ")
        );
    }
    out
}

/// `report.md`: the title, the settings chosen, the summary table, the picture and every run.
pub fn markdown(title: &str, choices: Option<&str>, rows: &[ReportRow]) -> String {
    let mut out = format!("# {title}\n\n");
    if let Some(choices) = choices {
        let _ = writeln!(out, "{choices}\n");
    }
    let _ = writeln!(
        out,
        "Test error at the best validation error, over seeds; the 95 % interval is the mean's, \
         x̄ ± t₀.₉₇₅,ₙ₋₁·s/√n (Student t), and needs n ≥ 2.\n"
    );
    out.push_str(&table(rows));
    let _ = writeln!(out, "\n![each seed's test error](results.png)\n");
    for row in rows {
        let published = row.published.map_or(String::new(), |p| {
            format!("; published: {} — {} %", p.source, pct(p.test_error))
        });
        let _ = writeln!(out, "- **{}**: {}{published}", row.name, row.label);
    }
    let _ = writeln!(
        out,
        "\n## Every run\n\n| row | seed | valid error % | test error % | fine-tuning epochs | minutes |\n|---|---:|---:|---:|---:|---:|"
    );
    for row in rows {
        for r in &row.runs {
            let o = &r.outcome;
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.1} |",
                row.name,
                r.seed,
                pct(o.valid_error),
                pct(o.test_error),
                o.epochs,
                o.minutes
            );
        }
    }
    let unfinished: usize = rows.iter().map(|r| r.unfinished).sum();
    if unfinished > 0 {
        let _ = writeln!(out, "\n{unfinished} run(s) unfinished, not counted.");
    }
    out
}

/// Writes `report.md`, `results.csv` and `results.png` into `dir`.
pub fn write(
    dir: &Path,
    title: &str,
    choices: Option<&str>,
    rows: &[ReportRow],
) -> Result<(), ReproduceError> {
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        crate::output::write_atomic(&path, bytes)
            .map_err(|source| ReproduceError::Write { path, source })
    };
    write("report.md", markdown(title, choices, rows).as_bytes())?;
    write("results.csv", csv(rows).as_bytes())?;
    let plot: Vec<PlotRow> = rows
        .iter()
        .map(|r| PlotRow {
            name: r.name.clone(),
            errors: r.runs.iter().map(|s| s.outcome.test_error).collect(),
            ci95: r.test_errors().and_then(|s| s.ci95),
            published: r.published.map(|p| p.test_error),
        })
        .collect();
    let path = dir.join("results.png");
    study_plot::results_png(&path, title, &plot)
        .map_err(|source| ReproduceError::Write { path, source })
}
