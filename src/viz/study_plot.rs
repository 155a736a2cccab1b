//! `results.png` of `gpu-dae reproduce`: for each row of a study, every seed's test error as a
//! dot, the mean with its 95 % confidence interval as a bar, and the published figure as a red
//! triangle.

use std::io;
use std::path::Path;

use plotters::prelude::*;

use super::curves::{FONT, RgbImage, font};

/// One row of the picture.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotRow {
    /// The row's name, under its column.
    pub name: String,
    /// Each seed's test error, %.
    pub errors: Vec<f64>,
    /// The 95 % interval of the mean, if there is one.
    pub ci95: Option<(f64, f64)>,
    /// The published figure, if any.
    pub published: Option<f64>,
}

/// Width of the picture per row, pixels (at least `MIN_WIDTH` in all).
const ROW_WIDTH: u32 = 150;
const MIN_WIDTH: u32 = 600;
const HEIGHT: u32 = 520;

fn draw_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing results.png failed: {e}"))
}

/// The y range: every value drawn, padded by 10 % (±0.5 around a single value).
fn y_range(rows: &[PlotRow]) -> (f64, f64) {
    let values = rows.iter().flat_map(|r| {
        let ci = r.ci95.into_iter().flat_map(|(lo, hi)| [lo, hi]);
        r.errors.iter().copied().chain(ci).chain(r.published)
    });
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo { 0.1 * (hi - lo) } else { 0.5 };
    ((lo - pad).max(0.0), hi + pad)
}

/// Draws `rows` into an RGB picture of `max(MIN_WIDTH, 150·rows)` × 520 pixels.
pub fn render(title: &str, rows: &[PlotRow]) -> io::Result<RgbImage> {
    font()?;
    let width = (ROW_WIDTH * rows.len().max(1) as u32).max(MIN_WIDTH);
    let mut pixels = vec![255u8; (width * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let (lo, hi) = y_range(rows);
        let n = rows.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..n - 0.5, lo..hi)
            .map_err(draw_err)?;
        let names: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(rows.len().max(1) * 2 + 1)
            .x_label_formatter(&|x| {
                let i = x.round();
                let at_row = (x - i).abs() < 1e-6 && i >= 0.0;
                at_row.then(|| names.get(i as usize).cloned()).flatten().unwrap_or_default()
            })
            .y_desc("test error (%)")
            .label_style((FONT, 14))
            .draw()
            .map_err(draw_err)?;
        let seed_dot = BLUE.mix(0.6).filled();
        let bar = BLACK.stroke_width(2);
        let red = RED.filled();
        for (i, row) in rows.iter().enumerate() {
            let x = i as f64;
            // Seeds spread over ±0.15 of the column so equal values stay visible.
            let k = row.errors.len();
            let dots = row.errors.iter().enumerate().map(|(j, &e)| {
                let dx = if k > 1 { 0.3 * j as f64 / (k - 1) as f64 - 0.15 } else { 0.0 };
                Circle::new((x - 0.1 + dx * 0.5, e), 4, seed_dot)
            });
            chart.draw_series(dots).map_err(draw_err)?;
            if let Some((a, b)) = row.ci95 {
                let mean = 0.5 * (a + b);
                let (l, r) = (x + 0.08, x + 0.22);
                let lines = [
                    vec![(x + 0.15, a), (x + 0.15, b)],
                    vec![(l, a), (r, a)],
                    vec![(l, b), (r, b)],
                    vec![(x + 0.05, mean), (x + 0.25, mean)],
                ];
                for line in lines {
                    chart.draw_series(LineSeries::new(line, bar)).map_err(draw_err)?;
                }
            }
            if let Some(p) = row.published {
                let mark = [(x + 0.15, p)].map(|c| TriangleMarker::new(c, 7, red));
                chart.draw_series(mark).map_err(draw_err)?;
            }
        }
        let legend = "dots: each seed · bar: mean and 95 % CI · red: published";
        root.draw_text(legend, &(FONT, 14).into_font().color(&BLACK), (70, (HEIGHT - 18) as i32))
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(RgbImage { width: width as usize, height: HEIGHT as usize, pixels })
}

/// Renders `rows` and writes them to `path` as PNG, atomically.
pub fn results_png(path: &Path, title: &str, rows: &[PlotRow]) -> io::Result<()> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    render(title, rows).map_err(with_path)?.save(path)
}
