//! Learning curves (`curves.png`): per-step or per-epoch values, each optionally with its
//! trailing moving average as a second, darker line, on a left y axis and optionally a right one
//! (e.g. cost on the left, sparsity — a fraction in [0, 1] — on the right), optionally with a
//! labelled vertical [`Marker`] (e.g. the early-stopping point). A [`Figure`] stacks several such
//! plots as panels under one title.
//!
//! Drawn with `plotters` into an in-memory RGB buffer, encoded with `png` and written atomically.
//! The text uses DejaVu Sans, embedded in the binary (`assets/fonts/`, licence next to it): no
//! system font is looked up, so the picture is the same on any machine.

use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

use super::{encode_png, save_png};

/// The window of the moving average drawn over a per-step curve: 25 points.
pub const MOVING_AVERAGE_WINDOW: usize = 25;

/// Trailing moving average: `out[i]` is the mean of `xs[i + 1 - window ..= i]`, over the points
/// that exist (the first `window - 1` outputs average `xs[0..=i]`). Output `[xs.len()]`.
///
/// Non-finite values (NaN, ±∞) are skipped: `out[i]` is the mean of the finite values in its
/// window, NaN when there are none. `window = 0` is taken as 1 (every finite value is its own
/// average). Sums are kept in f64, so long series do not drift.
pub fn moving_average(xs: &[f32], window: usize) -> Vec<f32> {
    let window = window.max(1);
    let (mut sum, mut count) = (0.0f64, 0usize);
    let mut out = Vec::with_capacity(xs.len());
    for (i, &x) in xs.iter().enumerate() {
        if x.is_finite() {
            sum += f64::from(x);
            count += 1;
        }
        if i >= window {
            let old = xs[i - window];
            if old.is_finite() {
                sum -= f64::from(old);
                count -= 1;
            }
        }
        // An empty window resets the sum, so that rounding left by earlier values cannot linger.
        if count == 0 {
            sum = 0.0;
        }
        out.push(if count == 0 { f32::NAN } else { (sum / count as f64) as f32 });
    }
    out
}

/// One curve: `y: [n]` with point `i` at `x = x0 + i * dx`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Series<'a> {
    /// Legend entry, e.g. `"cost"`.
    pub label: &'a str,
    /// The values `[n]`; non-finite ones are not drawn (the line has a gap there), nor are points
    /// whose x is non-finite or beyond ±`f32::MAX`.
    pub y: &'a [f32],
    /// x of the first point (default 1: the first step or epoch).
    pub x0: f64,
    /// x distance between points (default 1; e.g. 100 when every 100th step is logged).
    pub dx: f64,
    /// Window of the trailing [`moving_average`] drawn as a second, darker line on top of the
    /// raw values (drawn lighter); 0 or 1 draws the raw values only.
    pub moving_average: usize,
}

impl<'a> Series<'a> {
    /// A series at x = 1, 2, …, n without moving average.
    pub fn new(label: &'a str, y: &'a [f32]) -> Self {
        Self { label, y, x0: 1.0, dx: 1.0, moving_average: 0 }
    }

    /// Places point `i` at `x0 + i * dx`.
    pub fn with_x(self, x0: f64, dx: f64) -> Self {
        Self { x0, dx, ..self }
    }

    /// Also draws the trailing moving average over `window` points (see [`moving_average`]).
    pub fn with_moving_average(self, window: usize) -> Self {
        Self { moving_average: window, ..self }
    }

    /// The finite points `(x, y)`, split into runs of consecutive finite ones.
    fn runs(&self, y: &[f32]) -> Vec<Vec<(f64, f64)>> {
        let mut runs = Vec::new();
        let mut run = Vec::new();
        for (i, &v) in y.iter().enumerate() {
            let x = self.x0 + i as f64 * self.dx;
            // |x| ≤ f32::MAX like y, so that every span and padding stays finite.
            if v.is_finite() && x.abs() <= f64::from(f32::MAX) {
                run.push((x, f64::from(v)));
            } else if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        runs
    }
}

/// A y axis: its description and the series drawn against it.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis<'a> {
    /// Axis description, e.g. `"cross-entropy"` or `"fraction of units > 0"`.
    pub label: &'a str,
    /// The curves on this axis (the range covers all their finite values).
    pub series: Vec<Series<'a>>,
}

impl<'a> Axis<'a> {
    /// An axis described by `label` with the given curves.
    pub fn new(label: &'a str, series: Vec<Series<'a>>) -> Self {
        Self { label, series }
    }
}

/// A labelled vertical line across a plot at `x`, e.g. the epoch whose model a run kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marker<'a> {
    /// Where the line is, in the x axis' units; a non-finite x (or one beyond ±`f32::MAX`) draws
    /// nothing.
    pub x: f64,
    /// The text drawn beside the top of the line, e.g. `"best validation, epoch 12"`.
    pub label: &'a str,
}

impl Marker<'_> {
    /// Whether the marker is drawn (its x is finite and within ±`f32::MAX`, like a point's).
    fn drawn(&self) -> bool {
        self.x.abs() <= f64::from(f32::MAX)
    }
}

/// A `curves.png` plot: a title, the x description, a left y axis, optionally a right one and
/// optionally a vertical marker.
///
/// ```no_run
/// use gpu_dae::viz::{Axis, Curves, MOVING_AVERAGE_WINDOW, Series, curves_png};
/// # fn main() -> std::io::Result<()> {
/// let (error, sparsity) = (vec![0.5f32; 2500], vec![0.3f32; 2500]); // per step
/// let curves = Curves::new(
///     "ReLU-DAE, 784-225",
///     "step",
///     Axis::new(
///         "squared error",
///         vec![Series::new("error", &error).with_moving_average(MOVING_AVERAGE_WINDOW)],
///     ),
/// )
/// .with_right(Axis::new("fraction of z > 0", vec![Series::new("sparsity", &sparsity)]));
/// curves_png(std::path::Path::new("curves.png"), &curves)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Curves<'a> {
    /// Title above the plot.
    pub title: &'a str,
    /// x axis description, e.g. `"epoch"` or `"step"`.
    pub x_label: &'a str,
    /// The left y axis.
    pub left: Axis<'a>,
    /// An optional right y axis with its own range.
    pub right: Option<Axis<'a>>,
    /// An optional vertical marker.
    pub marker: Option<Marker<'a>>,
    /// Picture width in pixels, in [`Curves::MIN_SIZE`]`.0 ..= `[`Curves::MAX_SIDE`].
    pub width: u32,
    /// Picture height in pixels, in [`Curves::MIN_SIZE`]`.1 ..= `[`Curves::MAX_SIDE`].
    pub height: u32,
}

/// tab10 colours (blue, orange, green, red, purple, brown), one per series in order, left axis
/// first. The moving average uses the colour, the raw values a light tint of it.
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The colour of a [`Marker`]'s line and label, red, green, blue: tab10's pink, which no series
/// takes (it is not in `PALETTE`).
pub const MARKER_RGB: [u8; 3] = [227, 119, 194];
const MARKER_COLOR: RGBColor = RGBColor(MARKER_RGB[0], MARKER_RGB[1], MARKER_RGB[2]);
/// The share of the x span added on both sides of a plot with a marker.
const MARKER_PAD: f64 = 0.05;

/// The embedded font's family name in plotters' font table.
pub(crate) const FONT: &str = "DejaVu Sans";

/// Registers the embedded DejaVu Sans once per process; the error says why it failed.
pub(crate) fn font() -> io::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    static TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
    if *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, TTF).is_ok()) {
        Ok(())
    } else {
        Err(io::Error::other("embedded font assets/fonts/DejaVuSans.ttf does not parse"))
    }
}

/// Any plotters error as an [`io::Error`].
fn draw_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("drawing the curves failed: {e}"))
}

/// An 8-bit RGB picture, `pixels: [height, width, 3]` row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    /// Number of columns.
    pub width: usize,
    /// Number of rows.
    pub height: usize,
    /// Pixels `[height, width, 3]` (red, green, blue), row-major.
    pub pixels: Vec<u8>,
}

impl RgbImage {
    /// The picture as a PNG file (8-bit RGB), bytes `[file length]`. Errors as
    /// [`super::GrayImage::encode_png`] (with `pixels.len() == width * height * 3`).
    pub fn encode_png(&self) -> io::Result<Vec<u8>> {
        encode_png(self.width, self.height, png::ColorType::Rgb, &self.pixels)
    }

    /// Encodes the picture as PNG and writes it to `path` atomically; errors name `path`.
    pub fn save(&self, path: &Path) -> io::Result<()> {
        save_png(path, self.encode_png())
    }
}

/// Writes `curves` as a PNG of `curves.width × curves.height` pixels to `path`, atomically
/// (rendered in memory, encoded, then temporary sibling + rename via
/// [`crate::output::write_atomic`]). Errors as [`Curves::render`], or I/O errors naming `path`.
pub fn curves_png(path: &Path, curves: &Curves) -> io::Result<()> {
    save_rendered(path, curves.render())
}

/// Writes `figure` as a PNG of `figure.width × figure.height` pixels to `path`, atomically, as
/// [`curves_png`] does. Errors as [`Figure::render`], or I/O errors naming `path`.
pub fn figure_png(path: &Path, figure: &Figure) -> io::Result<()> {
    save_rendered(path, figure.render())
}

/// Saves a rendered picture (or its rendering error) to `path`, naming `path` in any error.
fn save_rendered(path: &Path, image: io::Result<RgbImage>) -> io::Result<()> {
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    image.map_err(with_path)?.save(path)
}

/// A drawing area of an in-memory picture.
type Area<'b> = DrawingArea<BitMapBackend<'b>, Shift>;

/// Errors (`InvalidInput`) unless `w × h` lies within [`Curves::MIN_SIZE`] ..=
/// [`Curves::MAX_SIDE`]; `what` names the picture in the message.
fn check_size(what: &str, w: u32, h: u32) -> io::Result<()> {
    let (min_w, min_h) = Curves::MIN_SIZE;
    if (min_w..=Curves::MAX_SIDE).contains(&w) && (min_h..=Curves::MAX_SIDE).contains(&h) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{what} of {w}x{h} (width x height): expected at least {min_w}x{min_h} and sides at \
             most {}",
            Curves::MAX_SIDE
        ),
    ))
}

/// A white `w × h` picture with `draw` drawn on it.
fn draw_picture(
    w: u32,
    h: u32,
    draw: impl FnOnce(&Area) -> io::Result<()>,
) -> io::Result<RgbImage> {
    font()?;
    let (width, height) = (w as usize, h as usize);
    let mut pixels = vec![255u8; width * height * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(draw_err)?;
        draw(&root)?;
        root.present().map_err(draw_err)?;
    }
    Ok(RgbImage { width, height, pixels })
}

/// The scale of a `width × height` plot: sizes (fonts, gaps, line widths) are given for
/// 1000×600, scale 1.
fn scale(width: u32, height: u32) -> f64 {
    (f64::from(width) / 1000.0).min(f64::from(height) / 600.0).clamp(0.4, 4.0)
}

/// Title heights at scale 1, in points: a plot's, a figure's, and a panel's within a figure.
const TITLE_SIZE: f64 = 22.0;
const FIGURE_TITLE_SIZE: f64 = 24.0;
const PANEL_TITLE_SIZE: f64 = 18.0;
/// Height of a figure's title band at scale 1, in pixels.
const FIGURE_TITLE_BAND: u32 = 48;

/// Several [`Curves`] stacked top to bottom under one title, each panel with its own title,
/// legend, axes and marker, e.g. an SdA run's pretraining and fine-tuning.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure<'a> {
    /// Title above the panels.
    pub title: &'a str,
    /// The panels, top first. Their own `width` and `height` are not used: each panel gets the
    /// figure's width and an equal share of its height (see [`Figure::render`]).
    pub panels: Vec<Curves<'a>>,
    /// Picture width in pixels, in [`Curves::MIN_SIZE`]`.0 ..= `[`Curves::MAX_SIDE`].
    pub width: u32,
    /// Picture height in pixels, at most [`Curves::MAX_SIDE`] and enough for the title band
    /// and [`Curves::MIN_SIZE`]`.1` per panel.
    pub height: u32,
}

impl<'a> Figure<'a> {
    /// `panels` under `title` in a picture 1000 wide and 48 + 600 per panel high (one panel's
    /// room when there is none), so that each panel is drawn as a default [`Curves`] is.
    pub fn new(title: &'a str, panels: Vec<Curves<'a>>) -> Self {
        let slots = u32::try_from(panels.len().max(1)).unwrap_or(u32::MAX);
        let height = slots.saturating_mul(600).saturating_add(FIGURE_TITLE_BAND);
        Self { title, panels, width: 1000, height }
    }

    /// Sets the picture size in pixels.
    pub fn with_size(self, width: u32, height: u32) -> Self {
        Self { width, height, ..self }
    }

    /// Draws the figure into an RGB picture `[height, width, 3]`.
    ///
    /// Sizes scale by s = min(width / 1000, height / (48 + 600 · panels)) (clamped as a plot's
    /// are): the title band is 48·s pixels high, and the panels share the rest equally, each
    /// drawn as [`Curves::render`] draws a plot, at scale s and with a smaller title. A figure
    /// without panels is its title over white.
    ///
    /// Errors (`InvalidInput`) for a size outside [`Curves::MIN_SIZE`] ..= [`Curves::MAX_SIDE`]
    /// or one that leaves a panel less than [`Curves::MIN_SIZE`]`.1` high; drawing errors, which
    /// should not happen, are returned rather than panicking.
    pub fn render(&self) -> io::Result<RgbImage> {
        let (w, h) = (self.width, self.height);
        check_size("figure", w, h)?;
        let slots = self.panels.len().max(1) as f64;
        let s = (f64::from(w) / 1000.0)
            .min(f64::from(h) / (f64::from(FIGURE_TITLE_BAND) + 600.0 * slots))
            .clamp(0.4, 4.0);
        let band = (f64::from(FIGURE_TITLE_BAND) * s).round() as u32;
        let room = u64::from(h.saturating_sub(band));
        if room < self.panels.len() as u64 * u64::from(Curves::MIN_SIZE.1) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "figure of {w}x{h} (width x height) with {} panels: expected at least {} \
                     pixels of height per panel below the {band}-pixel title",
                    self.panels.len(),
                    Curves::MIN_SIZE.1
                ),
            ));
        }
        draw_picture(w, h, |root| {
            let (title_band, body) = root.split_vertically(band);
            let style = TextStyle::from((FONT, FIGURE_TITLE_SIZE * s).into_font()).color(&BLACK);
            let (tw, th) = title_band.dim_in_pixel();
            title_band
                .draw(&Text::new(
                    self.title.to_string(),
                    (tw as i32 / 2, th as i32 / 2),
                    style.pos(Pos::new(HPos::Center, VPos::Center)),
                ))
                .map_err(draw_err)?;
            if self.panels.is_empty() {
                return Ok(());
            }
            let areas = body.split_evenly((self.panels.len(), 1));
            for (panel, area) in self.panels.iter().zip(&areas) {
                panel.draw(area, s, PANEL_TITLE_SIZE)?;
            }
            Ok(())
        })
    }
}

/// Number of tick labels asked of plotters per axis (it picks round values, at most this many).
const X_TICKS: usize = 10;
const Y_TICKS: usize = 8;

impl<'a> Curves<'a> {
    /// The smallest picture accepted, `(width, height)`: room for the axes and some plot.
    pub const MIN_SIZE: (u32, u32) = (240, 180);
    /// The largest side accepted.
    pub const MAX_SIDE: u32 = 8192;

    /// A 1000×600 plot with only a left axis and no marker.
    pub fn new(title: &'a str, x_label: &'a str, left: Axis<'a>) -> Self {
        Self { title, x_label, left, right: None, marker: None, width: 1000, height: 600 }
    }

    /// Adds a right y axis with its own range.
    pub fn with_right(self, right: Axis<'a>) -> Self {
        Self { right: Some(right), ..self }
    }

    /// Marks `x` with a dashed vertical line labelled `label` (replacing any marker).
    pub fn with_marker(self, x: f64, label: &'a str) -> Self {
        Self { marker: Some(Marker { x, label }), ..self }
    }

    /// Sets the picture size in pixels.
    pub fn with_size(self, width: u32, height: u32) -> Self {
        Self { width, height, ..self }
    }

    /// The range `render` gives the left (`right` = false) or right y axis, and whether values
    /// above it are clipped (see `render`).
    pub fn y_range(&self, right: bool) -> (Range<f64>, bool) {
        y_axis_range(&self.lines(), right)
    }

    /// The range `render` gives the x axis: the span of every series' finite points and of the
    /// marker (see `render`).
    pub fn x_range(&self) -> Range<f64> {
        x_axis_range(&self.lines(), self.marker)
    }

    /// Draws the plot into an RGB picture `[height, width, 3]`.
    ///
    /// Layout, top to bottom: the title, the legend (one entry per drawn curve, wrapped into
    /// rows, at most a third of the height, so it never covers the data), then the plot with
    /// the x description below and the y descriptions at the sides. The x range spans the
    /// finite points of all series and the marker, widened by 5 % on both sides when there is a
    /// marker, so that one at the first or last point stays clear of the axes (a single x gets
    /// ±5 % of its value, or ±0.5 around 0); each y range spans its axis' finite values plus 5 % on
    /// both sides (a constant series gets ±5 % of its value, or ±0.5 around 0), except that an
    /// axis with at least 200 values leaves its highest 0.5 % above the range: those points are
    /// drawn at the top edge and the axis description says "(top 0.5 % clipped)". Runs of
    /// consecutive finite points are drawn as lines; a lone finite point, and every point of a
    /// series of at most 60, as a dot. An axis without a finite value gets the range [0, 1];
    /// with no finite value at all the plot says so in its middle. The marker is a dashed line
    /// from the bottom to the top of the plot, under the curves and in a colour no series uses,
    /// with its label on a white box over them at the top: right of the line in the left half of
    /// the plot, left of it in the right half.
    ///
    /// Errors (`InvalidInput`) for a size outside [`Curves::MIN_SIZE`] ..= [`Curves::MAX_SIDE`];
    /// drawing errors, which should not happen, are returned rather than panicking.
    pub fn render(&self) -> io::Result<RgbImage> {
        let (w, h) = (self.width, self.height);
        check_size("curves picture", w, h)?;
        draw_picture(w, h, |root| self.draw(root, scale(w, h), TITLE_SIZE))
    }

    /// Draws everything onto `root` (white already) at scale `s`, the title `title_size` points
    /// high at scale 1.
    fn draw(&self, root: &Area, s: f64, title_size: f64) -> io::Result<()> {
        let px = |v: f64| (v * s).round().max(1.0) as i32;
        let title_style = TextStyle::from((FONT, title_size * s).into_font()).color(&BLACK);
        let text_style = TextStyle::from((FONT, 15.0 * s).into_font()).color(&BLACK);
        let tick_style = TextStyle::from((FONT, 13.0 * s).into_font()).color(&RGBColor(60, 60, 60));

        let lines = self.lines();
        let legend = layout_legend(root, &lines, &text_style, px)?;

        // Title band, legend band, plot.
        let title_h = px(40.0);
        let legend_h = legend.rows * px(ROW) + px(6.0);
        let (top, plot_area) = root.split_vertically(title_h + legend_h);
        let (title_band, legend_band) = top.split_vertically(title_h);
        let (tw, th) = title_band.dim_in_pixel();
        title_band
            .draw(&Text::new(
                self.title.to_string(),
                (tw as i32 / 2, th as i32 / 2),
                title_style.pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(draw_err)?;
        draw_legend(&legend_band, &lines, &legend, &text_style, px)?;

        // Ranges, ticks and their formats.
        let x_range = x_axis_range(&lines, self.marker);
        let (y_range, left_clipped) = y_axis_range(&lines, false);
        let (y2_range, right_clipped) = y_axis_range(&lines, true);
        let clipped = |label: &str, clipped: bool| {
            if clipped {
                format!("{label} (top {CLIP_PERCENT} % clipped)")
            } else {
                label.to_string()
            }
        };
        let (left_desc, right_desc) = (
            clipped(self.left.label, left_clipped),
            self.right.as_ref().map(|r| clipped(r.label, right_clipped)).unwrap_or_default(),
        );
        let fx = TickFormat::new(&x_range, X_TICKS);
        let fy = TickFormat::new(&y_range, Y_TICKS);
        let fy2 = TickFormat::new(&y2_range, Y_TICKS);

        // Label areas: widest tick label + the rotated description + gaps.
        let label_width = |f: &TickFormat, range: &Range<f64>| -> io::Result<i32> {
            let mut widest = 0;
            for v in f.points(range) {
                let (tw, _) =
                    plot_area.estimate_text_size(&f.format(v), &tick_style).map_err(draw_err)?;
                widest = widest.max(tw as i32);
            }
            Ok(widest + px(10.0 + 8.0 + 22.0))
        };
        let left_w = label_width(&fy, &y_range)?;
        let right_w = if self.right.is_some() { label_width(&fy2, &y2_range)? } else { 0 };

        let mut chart = ChartBuilder::on(&plot_area)
            .margin_top(px(8.0))
            .margin_bottom(px(8.0))
            .margin_left(px(12.0))
            .margin_right(if self.right.is_some() { px(12.0) } else { px(30.0) })
            .x_label_area_size(px(48.0))
            .y_label_area_size(left_w)
            .right_y_label_area_size(right_w)
            .build_cartesian_2d(x_range.clone(), y_range.clone())
            .map_err(draw_err)?
            .set_secondary_coord(x_range.clone(), y2_range.clone());
        let fmt_x = |v: &f64| fx.format(*v);
        let fmt_y = |v: &f64| fy.format(*v);
        let fmt_y2 = |v: &f64| fy2.format(*v);
        chart
            .configure_mesh()
            .x_labels(X_TICKS)
            .y_labels(Y_TICKS)
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y)
            .x_desc(self.x_label)
            .y_desc(&left_desc)
            .label_style(tick_style.clone())
            .axis_desc_style(text_style.clone())
            .bold_line_style(RGBColor(222, 222, 222))
            .light_line_style(RGBColor(244, 244, 244))
            .axis_style(RGBColor(90, 90, 90))
            .draw()
            .map_err(draw_err)?;
        if self.right.is_some() {
            chart
                .configure_secondary_axes()
                .y_labels(Y_TICKS)
                .y_label_formatter(&fmt_y2)
                .y_desc(&right_desc)
                .label_style(tick_style.clone())
                .axis_desc_style(text_style.clone())
                .axis_style(RGBColor(90, 90, 90))
                .draw()
                .map_err(draw_err)?;
        }

        // The marker's label goes over the curves, its line under them.
        let marker = self.marker.filter(Marker::drawn);
        if let Some(marker) = marker {
            let line = ShapeStyle::from(&MARKER_COLOR).stroke_width(px(2.0) as u32);
            let dashes = [(marker.x, y_range.start), (marker.x, y_range.end)];
            chart
                .draw_series(DashedLineSeries::new(dashes, px(8.0), px(5.0), line))
                .map_err(draw_err)?;
        }

        // Raw values first, then the darker moving averages on top of all of them.
        for line in lines.iter().filter(|l| !l.average).chain(lines.iter().filter(|l| l.average)) {
            let style =
                ShapeStyle::from(&line.color)
                    .stroke_width(px(if line.thick { 2.0 } else { 1.0 }) as u32);
            let dot = ShapeStyle::from(&line.color).filled();
            let radius = px(if line.average { 2.5 } else { 3.0 });
            // Values beyond a clipped axis are drawn at its edge.
            let range = if line.right { &y2_range } else { &y_range };
            for run in &line.runs {
                let run: Vec<(f64, f64)> =
                    run.iter().map(|&(x, y)| (x, y.clamp(range.start, range.end))).collect();
                let dots = run.len() == 1 || line.dots;
                let path = LineSeries::new(run.iter().copied(), style);
                let marks = run.iter().filter(|_| dots).map(|&p| Circle::new(p, radius, dot));
                if line.right {
                    chart.draw_secondary_series(path).map_err(draw_err)?;
                    chart.draw_secondary_series(marks).map_err(draw_err)?;
                } else {
                    chart.draw_series(path).map_err(draw_err)?;
                    chart.draw_series(marks).map_err(draw_err)?;
                }
            }
        }

        if let Some(marker) = marker {
            let (tw, th) =
                plot_area.estimate_text_size(marker.label, &text_style).map_err(draw_err)?;
            let (tw, th) = (tw as i32, th as i32);
            let (gap, pad) = (px(6.0), px(3.0));
            let left = if marker.x < (x_range.start + x_range.end) / 2.0 {
                gap
            } else {
                -gap - tw - 2 * pad
            };
            let label = EmptyElement::at((marker.x, y_range.end))
                + Rectangle::new(
                    [(left, gap), (left + tw + 2 * pad, gap + th + 2 * pad)],
                    WHITE.mix(0.85).filled(),
                )
                + Text::new(
                    marker.label.to_string(),
                    (left + pad, gap + pad),
                    text_style.color(&MARKER_COLOR),
                );
            chart.draw_series(std::iter::once(label)).map_err(draw_err)?;
        }

        if lines.iter().all(|l| l.runs.is_empty()) {
            let area = chart.plotting_area().strip_coord_spec();
            let (aw, ah) = area.dim_in_pixel();
            area.draw(&Text::new(
                "no finite values to plot".to_string(),
                (aw as i32 / 2, ah as i32 / 2),
                text_style
                    .color(&RGBColor(120, 120, 120))
                    .pos(Pos::new(HPos::Center, VPos::Center)),
            ))
            .map_err(draw_err)?;
        }
        Ok(())
    }

    /// Every line to draw, in legend order: per series its raw values, then its moving average.
    fn lines(&self) -> Vec<Line> {
        let axes = std::iter::once((&self.left, false)).chain(self.right.iter().map(|a| (a, true)));
        let mut lines = Vec::new();
        let mut index = 0;
        for (axis, right) in axes {
            for series in &axis.series {
                let color = PALETTE[index % PALETTE.len()];
                index += 1;
                let side = if right && self.right.is_some() { " (right axis)" } else { "" };
                let smoothed = series.moving_average > 1;
                lines.push(Line {
                    label: format!("{}{side}", series.label),
                    color: if smoothed { tint(color) } else { color },
                    thick: !smoothed,
                    runs: series.runs(series.y),
                    right,
                    average: false,
                    dots: series.y.len() <= 60,
                });
                if smoothed {
                    let avg = moving_average(series.y, series.moving_average);
                    lines.push(Line {
                        label: format!(
                            "{}, {}-point moving average{side}",
                            series.label, series.moving_average
                        ),
                        color,
                        thick: true,
                        runs: series.runs(&avg),
                        right,
                        average: true,
                        dots: false,
                    });
                }
            }
        }
        lines
    }
}

/// One drawn line (a series' raw values or its moving average).
struct Line {
    label: String,
    color: RGBColor,
    /// Drawn 2 px wide (a moving average or a series without one), else 1 px (raw values under
    /// their moving average).
    thick: bool,
    /// Runs of consecutive finite points `(x, y)`.
    runs: Vec<Vec<(f64, f64)>>,
    /// Drawn against the right axis.
    right: bool,
    /// A moving average (drawn thicker, on top).
    average: bool,
    /// Mark every point with a dot (short series).
    dots: bool,
}

impl Line {
    fn xs(&self) -> impl Iterator<Item = f64> + '_ {
        self.runs.iter().flatten().map(|p| p.0)
    }
    fn ys(&self) -> impl Iterator<Item = f64> + '_ {
        self.runs.iter().flatten().map(|p| p.1)
    }
}

/// A light tint of `color`: 40 % colour, 60 % white.
fn tint(RGBColor(r, g, b): RGBColor) -> RGBColor {
    let mix = |c: u8| (0.4 * f64::from(c) + 0.6 * 255.0).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

/// Where each legend entry goes, centred row by row: `pos[k] = Some((row, x offset))`, `None`
/// for entries left out because the legend would take more than a third of the picture; those
/// are counted on a last row of their own (`more`).
struct LegendLayout {
    rows: i32,
    pos: Vec<Option<(i32, i32)>>,
    more: usize,
}

/// Height of a legend row; width of the sample line in front of a label, gap after it, gap
/// between entries.
const ROW: f64 = 24.0;
const SAMPLE: f64 = 28.0;
const GAP: f64 = 6.0;
const ENTRY_GAP: f64 = 26.0;

/// Wraps the legend entries into rows no wider than the picture, at most a third of its height.
fn layout_legend(
    root: &Area,
    entries: &[Line],
    style: &TextStyle,
    px: impl Fn(f64) -> i32,
) -> io::Result<LegendLayout> {
    let (width, height) = root.dim_in_pixel();
    let avail = width as i32 - px(40.0);
    let mut widths = Vec::with_capacity(entries.len());
    for e in entries {
        let (tw, _) = root.estimate_text_size(&e.label, style).map_err(draw_err)?;
        widths.push(px(SAMPLE + GAP) + tw as i32);
    }
    // Greedy rows.
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut used = 0;
    for (k, &w) in widths.iter().enumerate() {
        match rows.last_mut() {
            Some(row) if used + px(ENTRY_GAP) + w <= avail => {
                row.push(k);
                used += px(ENTRY_GAP) + w;
            }
            _ => {
                rows.push(vec![k]);
                used = w;
            }
        }
    }
    // Too many rows: keep what fits, less one row that counts the rest.
    let max_rows = (height as i32 / 3 / px(ROW)).max(2) as usize;
    let mut more = 0;
    if rows.len() > max_rows {
        more = rows[max_rows - 1..].iter().map(Vec::len).sum();
        rows.truncate(max_rows - 1);
    }
    // Centre each row.
    let mut pos = vec![None; entries.len()];
    for (r, row) in rows.iter().enumerate() {
        let total: i32 =
            row.iter().map(|&k| widths[k]).sum::<i32>() + px(ENTRY_GAP) * (row.len() as i32 - 1);
        let mut x = ((width as i32 - total) / 2).max(0);
        for &k in row {
            pos[k] = Some((r as i32, x));
            x += widths[k] + px(ENTRY_GAP);
        }
    }
    let rows = rows.len() as i32 + i32::from(more > 0);
    Ok(LegendLayout { rows, pos, more })
}

fn draw_legend(
    band: &Area,
    entries: &[Line],
    layout: &LegendLayout,
    style: &TextStyle,
    px: impl Fn(f64) -> i32,
) -> io::Result<()> {
    let row_y = |row: i32| row * px(ROW) + px(ROW / 2.0);
    for (e, pos) in entries.iter().zip(&layout.pos) {
        let Some((row, x)) = *pos else { continue };
        let y = row_y(row);
        let line_style =
            ShapeStyle::from(&e.color).stroke_width(px(if e.thick { 3.0 } else { 2.0 }) as u32);
        band.draw(&PathElement::new(vec![(x, y), (x + px(SAMPLE), y)], line_style))
            .map_err(draw_err)?;
        band.draw(&Text::new(
            e.label.clone(),
            (x + px(SAMPLE + GAP), y),
            style.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(draw_err)?;
    }
    if layout.more > 0 {
        let (w, _) = band.dim_in_pixel();
        band.draw(&Text::new(
            format!("… and {} more curves", layout.more),
            (w as i32 / 2, row_y(layout.rows - 1)),
            style.pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(draw_err)?;
    }
    Ok(())
}

/// The share of an axis' highest values left above its range when the axis holds at least
/// `CLIP_MIN_VALUES` values, so that a few early costs (a dA's first minibatch costs ≈ 800, ten
/// times the rest) do not squash the curve; those points are drawn at the top edge.
const CLIP_PERCENT: f64 = 0.5;
/// Fewer values than this are never clipped.
const CLIP_MIN_VALUES: usize = 200;

/// The x range: `padded_range` of every line's x and the marker's (when drawn), by
/// `MARKER_PAD` of the span when there is a marker, by nothing otherwise.
fn x_axis_range(lines: &[Line], marker: Option<Marker>) -> Range<f64> {
    let marker = marker.filter(Marker::drawn);
    let pad = if marker.is_some() { MARKER_PAD } else { 0.0 };
    padded_range(lines.iter().flat_map(|l| l.xs()).chain(marker.map(|m| m.x)), pad)
}

/// The y range of the left (`right` = false) or right axis: `padded_range` of its finite
/// values, with the top at the (100 − `CLIP_PERCENT`)th percentile when the axis holds at least
/// `CLIP_MIN_VALUES` values; and whether any value lies above that top.
fn y_axis_range(lines: &[Line], right: bool) -> (Range<f64>, bool) {
    let mut ys: Vec<f64> = lines.iter().filter(|l| l.right == right).flat_map(|l| l.ys()).collect();
    if ys.len() < CLIP_MIN_VALUES {
        return (padded_range(ys.into_iter(), 0.05), false);
    }
    ys.sort_by(f64::total_cmp);
    let top = ys[((ys.len() - 1) as f64 * (1.0 - CLIP_PERCENT / 100.0)).round() as usize];
    let max = ys[ys.len() - 1];
    let range = padded_range(ys.into_iter().filter(|&y| y <= top), 0.05);
    (range.clone(), max > range.end)
}

/// `[min, max]` of the values, widened by `pad` of the span on both sides. A constant (or
/// single) value `v` gets `v ± 5 % of |v|` (±0.5 when v = 0); no value gives [0, 1].
fn padded_range(values: impl Iterator<Item = f64>, pad: f64) -> Range<f64> {
    let (lo, hi) =
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return 0.0..1.0;
    }
    if hi - lo <= hi.abs().max(lo.abs()) * 1e-12 {
        let d = if lo == 0.0 { 0.5 } else { lo.abs() * 0.05 };
        return lo - d..hi + d;
    }
    let d = (hi - lo) * pad;
    lo - d..hi + d
}

/// Tick label format for one axis: the same number of decimals on every tick, enough to tell
/// neighbouring ticks apart; scientific notation for very large or very small magnitudes.
struct TickFormat {
    n: usize,
    decimals: usize,
    scientific: bool,
}

impl TickFormat {
    fn new(range: &Range<f64>, n: usize) -> Self {
        let mut f = Self { n, decimals: 0, scientific: false };
        let points = f.points(range);
        // plotters' ticks are k · step with step = {1, 2, 5} · 10^e.
        let step = points.windows(2).map(|p| p[1] - p[0]).fold(f64::INFINITY, f64::min);
        let step = if step.is_finite() && step > 0.0 { step } else { range.end - range.start };
        let magnitude = range.start.abs().max(range.end.abs());
        f.scientific = magnitude >= 1e6 || (magnitude < 1e-3 && magnitude > 0.0);
        f.decimals = if f.scientific {
            // Mantissa digits that separate ticks `step` apart.
            ((magnitude / step).log10().ceil().max(1.0) as usize).min(6)
        } else {
            ((-step.log10() - 1e-9).ceil().max(0.0) as usize).min(9)
        };
        f
    }

    /// The tick values plotters will label on `range`.
    fn points(&self, range: &Range<f64>) -> Vec<f64> {
        let coord: RangedCoordf64 = range.clone().into();
        coord.key_points(self.n)
    }

    fn format(&self, v: f64) -> String {
        // A tick at zero is "0", not "0e0".
        if self.scientific && v == 0.0 {
            "0".to_string()
        } else if self.scientific {
            format!("{v:.*e}", self.decimals)
        } else {
            // Avoid "-0" / "-0.00" for a tick that is zero up to rounding.
            let s = format!("{v:.*}", self.decimals);
            if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
                s.trim_start_matches('-').to_string()
            } else {
                s
            }
        }
    }
}
