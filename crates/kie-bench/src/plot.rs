//! The waiting benchmark's picture: status calls per task against detection delay, one
//! marker per strategy and timing, so the trade-off is seen at a glance. An SVG drawn
//! with `plotters`, written beside BENCHMARKS.md.

use std::path::Path;

use plotters::prelude::*;

use crate::BoxError;

/// One strategy's figures.
pub struct Point {
    pub label: &'static str,
    pub calls: f64,
    pub p50: f64,
    pub p95: f64,
}

/// The strategies under one timing.
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

const COLOURS: [RGBColor; 2] = [RGBColor(31, 119, 180), RGBColor(214, 39, 40)];

/// Draws `series` to `path`: x is status calls per task (log scale), y the median
/// detection delay, with a whisker up to the 95th percentile.
pub fn draw(path: &Path, series: &[Series]) -> Result<(), BoxError> {
    let all = || series.iter().flat_map(|s| &s.points);
    let max_calls = all().map(|p| p.calls).fold(1.0, f64::max) * 1.6;
    let max_delay = all().map(|p| p.p95).fold(1.0, f64::max) * 1.15;
    let root = SVGBackend::new(path, (860, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Status calls per task against detection delay",
            ("sans-serif", 22),
        )
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(60)
        .build_cartesian_2d((0.7..max_calls).log_scale(), 0.0..max_delay)?;
    chart
        .configure_mesh()
        .x_desc("status calls per task (mean, log scale)")
        .y_desc("detection delay, s (median, whisker to p95)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()?;
    for (series, colour) in series.iter().zip(COLOURS) {
        let style = colour.filled();
        for point in &series.points {
            chart.draw_series(LineSeries::new(
                [(point.calls, point.p50), (point.calls, point.p95)],
                colour.stroke_width(2),
            ))?;
        }
        chart
            .draw_series(series.points.iter().map(|p| {
                EmptyElement::at((p.calls, p.p50))
                    + Circle::new((0, 0), 6, style)
                    + Text::new(p.label, (9, -14), ("sans-serif", 14))
            }))?
            .label(series.name.as_str())
            .legend(move |(x, y)| Circle::new((x + 8, y), 6, style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()?;
    root.present()?;
    Ok(())
}
