//! `sweep.png` of `gpu-dae bench --sweep`: the dA step's achieved GFLOP/s against the minibatch
//! size (log scale), one line per hidden-layer size, beside the machine's GEMM peak as a dashed
//! line, so it shows how the cost grows with the work and how far each shape is from the peak.

use std::io;
use std::path::Path;

use plotters::prelude::*;

use super::curves::{FONT, PALETTE, RgbImage, font};

/// One line of the picture: a hidden-layer size and its (batch, GFLOP/s) points.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepLine {
    /// Legend entry, e.g. "784-500".
    pub label: String,
    /// (minibatch size, GFLOP/s), batch ascending.
    pub points: Vec<(f64, f64)>,
}

const WIDTH: u32 = 900;
const HEIGHT: u32 = 560;

fn draw_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing sweep.png failed: {e}"))
}

/// Draws `lines` and the reference rates `peaks` ((label, GFLOP/s), dashed) into a 900 × 560
/// RGB picture.
pub fn render(title: &str, lines: &[SweepLine], peaks: &[(&str, f64)]) -> io::Result<RgbImage> {
    font()?;
    let finite = |v: &f64| v.is_finite() && *v > 0.0;
    let xs = lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)).filter(finite);
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let (x_lo, x_hi) = if x_lo.is_finite() { (x_lo / 1.3, x_hi * 1.3) } else { (0.5, 2.0) };
    let ys =
        lines.iter().flat_map(|l| l.points.iter().map(|p| p.1)).chain(peaks.iter().map(|p| p.1));
    let y_hi = ys.filter(finite).fold(1.0f64, f64::max) * 1.1;
    let mut pixels = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FONT, 20))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), 0.0..y_hi)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("minibatch size (log scale)")
            .y_desc("GFLOP/s (10·B·V·H per step)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style((FONT, 14))
            .draw()
            .map_err(draw_err)?;
        let greys = [BLACK, RGBColor(127, 127, 127)];
        for (&(label, gflops), &color) in peaks.iter().zip(greys.iter().cycle()) {
            let dashes =
                DashedLineSeries::new([(x_lo, gflops), (x_hi, gflops)], 8, 6, color.into());
            chart
                .draw_series(dashes)
                .map_err(draw_err)?
                .label(label.to_string())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], color));
        }
        for (line, &color) in lines.iter().zip(PALETTE.iter().cycle()) {
            let points: Vec<(f64, f64)> =
                line.points.iter().copied().filter(|p| finite(&p.0) && p.1.is_finite()).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                .map_err(draw_err)?
                .label(line.label.clone())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
            chart
                .draw_series(points.into_iter().map(|p| Circle::new(p, 4, color.filled())))
                .map_err(draw_err)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .label_font((FONT, 14))
            .draw()
            .map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok(RgbImage { width: WIDTH as usize, height: HEIGHT as usize, pixels })
}

/// Renders the sweep and writes it to `path` as PNG, atomically.
pub fn sweep_png(
    path: &Path,
    title: &str,
    lines: &[SweepLine],
    peaks: &[(&str, f64)],
) -> io::Result<()> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    render(title, lines, peaks).map_err(with_path)?.save(path)
}
