//! `unigen report`: one self-contained HTML page for one or more runs. No network, no external
//! script: charts are inline SVG drawn here, pictures are embedded as base64 PNG, and a short
//! inline script checks, once the page has loaded, that every chart has its lines and every
//! picture decoded, and says so at the bottom ("report check: ok").

use std::collections::BTreeSet;
use std::fmt::Write;

use base64::Engine;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::runs::Run;

/// Pictures per run and kind along the training, evenly spaced, the last epoch always included.
pub const PICTURES_PER_RUN: usize = 12;

/// One colour per run, in order (a palette readable by colour-blind readers: Okabe-Ito).
const COLOURS: [&str; 8] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"];

/// `text` safe inside HTML elements and attributes.
pub fn escape(text: &str) -> String {
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
        out
    })
}

/// A series of one run on one chart: `(step, value)` points, in order.
pub type Series = Vec<(f64, f64)>;

/// The chart names of a run's metrics: each loss, each end-of-epoch score, and the training speed.
fn series_of(run: &Run) -> Vec<(String, Series)> {
    let mut names: BTreeSet<String> = BTreeSet::new();
    for m in &run.epochs {
        names.extend(m.losses.keys().map(|k| format!("loss: {k}")));
        names.extend(m.scores.keys().map(|k| format!("score: {k}")));
    }
    if !run.epochs.is_empty() {
        names.insert("speed: examples/s".to_string());
    }
    names
        .into_iter()
        .map(|name| {
            let points = run
                .epochs
                .iter()
                .filter_map(|m| {
                    let v = match name.split_once(": ") {
                        Some(("loss", k)) => m.losses.get(k).copied(),
                        Some(("speed", _)) => Some(m.examples_per_s),
                        Some((_, k)) => m.scores.get(k).copied(),
                        None => None,
                    }?;
                    Some((m.step as f64, v))
                })
                .collect();
            (name, points)
        })
        .collect()
}

/// A number for an axis or a table: 4 significant digits, no exponent for everyday sizes.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e6).contains(&a) {
        format!("{x:.3e}")
    } else {
        let decimals = if a == 0.0 { 0 } else { (3 - a.log10().floor() as i32).clamp(0, 6) as usize };
        format!("{x:.decimals$}")
    }
}

/// A line chart of several runs' series (`None` where a run lacks this metric), as inline SVG.
fn chart(title: &str, series: &[Option<&Series>]) -> String {
    const W: f64 = 440.0;
    const H: f64 = 250.0;
    const L: f64 = 62.0; // margins: left (y labels), right, top (title), bottom (x labels)
    const R: f64 = 12.0;
    const T: f64 = 26.0;
    const B: f64 = 36.0;
    let finite: Vec<(f64, f64)> = series.iter().flatten().flat_map(|s| s.iter().copied()).filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    let (mut y0, mut y1) = finite.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, y)| (lo.min(*y), hi.max(*y)));
    let x1 = finite.iter().fold(1.0f64, |hi, (x, _)| hi.max(*x));
    if !(y0 < y1) {
        let c = if y0.is_finite() { y0 } else { 0.0 };
        (y0, y1) = (c - 1.0, c + 1.0);
    }
    let pad = 0.05 * (y1 - y0);
    let (y0, y1) = (y0 - pad, y1 + pad);
    let px = |x: f64| L + (W - L - R) * x / x1;
    let py = |y: f64| T + (H - T - B) * (1.0 - (y - y0) / (y1 - y0));

    let mut svg = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{t}\">\
         <text x=\"{L}\" y=\"16\" class=\"title\">{t}</text>\
         <rect x=\"{L}\" y=\"{T}\" width=\"{}\" height=\"{}\" class=\"frame\"/>",
        W - L - R,
        H - T - B,
        t = escape(title)
    );
    for i in 0..=4 {
        let (x, y) = (x1 * i as f64 / 4.0, y0 + (y1 - y0) * i as f64 / 4.0);
        let _ = write!(
            svg,
            "<line x1=\"{L}\" x2=\"{}\" y1=\"{py}\" y2=\"{py}\" class=\"grid\"/><text x=\"{}\" y=\"{}\" class=\"ytick\">{}</text>\
             <text x=\"{px}\" y=\"{}\" class=\"xtick\">{x:.0}</text>",
            W - R,
            L - 4.0,
            py(y) + 4.0,
            num(y),
            H - B + 14.0,
            py = py(y),
            px = px(x),
        );
    }
    let _ = write!(svg, "<text x=\"{}\" y=\"{}\" class=\"xlabel\">step</text>", (L + W - R) / 2.0, H - 4.0);
    for (i, s) in series.iter().enumerate() {
        let Some(s) = s else { continue };
        // A non-finite value breaks the line rather than dragging it off the chart.
        for piece in s.split(|(x, y)| !(x.is_finite() && y.is_finite())).filter(|p| !p.is_empty()) {
            let points: Vec<String> = piece.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
            let colour = COLOURS[i % COLOURS.len()];
            let _ = write!(svg, "<polyline points=\"{}\" stroke=\"{colour}\" class=\"line\"/>", points.join(" "));
            if piece.len() == 1 {
                let (x, y) = piece[0];
                let _ = write!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>", px(x), py(y));
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A PNG file as a `data:` URL; anything but a PNG is refused, naming the file.
fn png_data_url(path: &std::path::Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(Error::Config { path: path.display().to_string(), problem: "not a PNG file".into() });
    }
    Ok(format!("data:image/png;base64,{}", base64::engine::general_purpose::STANDARD.encode(bytes)))
}

/// At most `n` items, evenly spaced, the first and the last always among them.
fn spaced<T: Clone>(items: &[T], n: usize) -> Vec<T> {
    if items.len() <= n {
        return items.to_vec();
    }
    let picks: BTreeSet<usize> = (0..n).map(|i| (i * (items.len() - 1)) / (n - 1)).collect();
    picks.into_iter().map(|i| items[i].clone()).collect()
}

fn duration(secs: f64) -> String {
    match secs {
        s if s < 120.0 => format!("{s:.1} s"),
        s if s < 7200.0 => format!("{:.1} min", s / 60.0),
        s => format!("{:.2} h", s / 3600.0),
    }
}

/// A JSON object's scalar fields as table rows (nested objects are shown apart).
fn fields_table(v: &Value, skip: &[&str]) -> String {
    let mut rows = String::new();
    if let Value::Object(m) = v {
        for (k, x) in m.iter().filter(|(k, x)| !skip.contains(&k.as_str()) && !x.is_object()) {
            let shown = match x {
                Value::Number(n) => n.as_f64().map_or(n.to_string(), num),
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(rows, "<tr><th>{}</th><td>{}</td></tr>", escape(k), escape(&shown));
        }
    }
    format!("<table class=\"kv\">{rows}</table>")
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}\
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}h3{font-size:15px}\
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}\
.kv th{background:#f6f6f6;font-weight:normal}.swatch{display:inline-block;width:12px;height:12px;margin-right:6px}\
.charts{display:flex;flex-wrap:wrap;gap:10px}.chart{background:#fff}\
.strip{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0}figcaption{font-size:12px;text-align:center}\
figure img{image-rendering:pixelated;max-width:220px;border:1px solid #ccc}\
pre{background:#f6f6f6;padding:8px;font-size:12px;overflow-x:auto}#check{margin-top:30px;padding:8px;background:#eee}";

/// How a chart looks, in the page and in a chart file alike.
const CHART_STYLE: &str = ".chart .frame{fill:none;stroke:#999}.chart .grid{stroke:#eee}.chart .line{fill:none;stroke-width:1.8}\
.chart text{font-size:11px;fill:#333;font-family:sans-serif}.chart .title{font-size:13px;font-weight:bold}\
.chart .ytick{text-anchor:end}.chart .xtick,.chart .xlabel{text-anchor:middle}.chart .legend{text-anchor:end;font-weight:bold}";

/// Line charts of named series, one above the other, as a standalone SVG file with a legend per
/// chart in the series' colours (a 2-D run's `divergences.svg`).
pub fn chart_file(charts: &[(&str, Vec<(&str, Series)>)]) -> String {
    const W: f64 = 440.0;
    const H: f64 = 250.0;
    let mut body = String::new();
    for (row, (title, named)) in charts.iter().enumerate() {
        let series: Vec<Option<&Series>> = named.iter().map(|(_, s)| Some(s)).collect();
        let svg = chart(title, &series);
        let svg = svg.replacen("<svg ", &format!("<svg y=\"{}\" ", H * row as f64), 1);
        let _ = write!(body, "{}", svg.strip_suffix("</svg>").expect("a chart ends its svg"));
        for (i, (name, _)) in named.iter().enumerate().rev() {
            let x = W - 12.0 - 80.0 * (named.len() - 1 - i) as f64;
            let _ = write!(body, "<text x=\"{x}\" y=\"16\" class=\"legend\" style=\"fill:{}\">{}</text>", COLOURS[i % COLOURS.len()], escape(name));
        }
        body.push_str("</svg>");
    }
    let h = H * charts.len() as f64;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{h}\" viewBox=\"0 0 {W} {h}\">\
         <style>{CHART_STYLE}</style><rect width=\"{W}\" height=\"{h}\" fill=\"#fff\"/>{body}</svg>\n"
    )
}

/// The page's own check, run once everything has loaded.
const CHECK: &str = "window.addEventListener('load',function(){\
var bad=[];var charts=document.querySelectorAll('svg.chart');var imgs=document.querySelectorAll('img');\
charts.forEach(function(c){var p=c.querySelectorAll('polyline');if(p.length===0)bad.push('chart without lines: '+c.getAttribute('aria-label'));\
p.forEach(function(l){if(l.getBBox().width+l.getBBox().height<=0&&l.points.length>1)bad.push('empty line in '+c.getAttribute('aria-label'))})});\
imgs.forEach(function(i){if(!i.complete||i.naturalWidth===0)bad.push('picture not decoded: '+i.alt)});\
var el=document.getElementById('check');\
if(bad.length===0){el.textContent='report check: ok ('+charts.length+' charts, '+imgs.length+' pictures)';document.body.dataset.check='ok'}\
else{el.textContent='report check: FAILED: '+bad.join('; ');document.body.dataset.check='failed'}});";

/// The report page for `runs`, named as given in `names`; `generated` says when and by what.
pub fn html(runs: &[Run], names: &[String], generated: &str) -> Result<String> {
    let mut body = String::new();
    let title = if runs.len() == 1 { format!("unigen report: {}", names[0]) } else { format!("unigen report: {} runs", runs.len()) };
    let _ = write!(body, "<h1>{}</h1><p>{}</p>", escape(&title), escape(generated));

    // ---- the runs, one row each: the legend of every chart ----
    body.push_str(
        "<h2>Runs</h2><table><tr><th>run</th><th>model</th><th>data</th><th>seed</th><th>epochs</th><th>steps</th>\
         <th>wall time</th><th>examples/s</th><th>headline</th></tr>",
    );
    for (i, (run, name)) in runs.iter().zip(names).enumerate() {
        let headline = run.headline().map_or("-".into(), |h| h.to_string());
        let _ = write!(
            body,
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            COLOURS[i % COLOURS.len()],
            escape(name),
            run.spec.model.name(),
            escape(&run.spec.data.label()),
            run.spec.seed,
            run.epochs_done(),
            run.planned_epochs(),
            run.checkpoint_step.map_or("-".into(), |s| s.to_string()),
            run.wall_s().map_or("-".into(), duration),
            run.examples_per_s().map_or("-".into(), |r| format!("{r:.0}")),
            escape(&headline)
        );
    }
    body.push_str("</table>");

    // ---- curves: one chart per metric, every run that has it overlaid ----
    body.push_str("<h2>Curves over training</h2>");
    let per_run: Vec<Vec<(String, Series)>> = runs.iter().map(series_of).collect();
    let metrics: BTreeSet<&String> = per_run.iter().flatten().map(|(name, _)| name).collect();
    if metrics.is_empty() {
        body.push_str("<p>No finished epoch yet: nothing to draw.</p>");
    }
    body.push_str("<div class=\"charts\">");
    for metric in metrics {
        let series: Vec<Option<&Series>> = per_run.iter().map(|s| s.iter().find(|(n, _)| n == metric).map(|(_, p)| p)).collect();
        body.push_str(&chart(metric, &series));
    }
    body.push_str("</div>");

    // ---- pictures along training ----
    body.push_str("<h2>Pictures along training</h2>");
    for (run, name) in runs.iter().zip(names) {
        let _ = write!(body, "<h3>{}</h3>", escape(name));
        if run.pictures.is_empty() {
            body.push_str("<p>No pictures.</p>");
        }
        for (kind, files) in &run.pictures {
            let _ = write!(body, "<p>{}</p><div class=\"strip\">", escape(kind));
            for (epoch, path) in spaced(files, PICTURES_PER_RUN) {
                let alt = format!("{name} {kind} epoch {epoch}");
                let _ = write!(
                    body,
                    "<figure><img src=\"{}\" alt=\"{}\"><figcaption>epoch {epoch}</figcaption></figure>",
                    png_data_url(&path)?,
                    escape(&alt)
                );
            }
            body.push_str("</div>");
        }
    }

    // ---- settings and evaluation ----
    body.push_str("<h2>Settings and evaluation</h2>");
    for (run, name) in runs.iter().zip(names) {
        let _ = write!(body, "<h3>{}</h3><p>run.toml</p><pre>{}</pre>", escape(name), escape(&run.spec_text));
        match &run.eval {
            Some(e) => {
                let fingerprint = e.get("classifier_fingerprint").and_then(Value::as_str).unwrap_or("none (no classifier metric)");
                let _ = write!(
                    body,
                    "<p>Evaluation (<code>unigen eval</code>), classifier fingerprint <code>{}</code></p>{}<p>Protocol</p>{}",
                    escape(fingerprint),
                    fields_table(e, &["protocol"]),
                    e.get("protocol").map_or("<p>not recorded</p>".into(), |p| fields_table(p, &[]))
                );
            }
            None => {
                let _ = write!(body, "<p>Not evaluated yet: <code>unigen eval {}</code>.</p>", escape(&run.dir.display().to_string()));
            }
        }
    }
    Ok(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\
         <title>{}</title><style>{STYLE}{CHART_STYLE}</style></head><body>{body}\
         <div id=\"check\">report check: not run (JavaScript is off)</div><script>{CHECK}</script></body></html>\n",
        escape(&title)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn a_chart_draws_one_line_per_run_and_breaks_at_non_finite_values() {
        let a: Series = vec![(1.0, 3.0), (2.0, 2.0), (3.0, 1.0)];
        let b: Series = vec![(1.0, 4.0), (2.0, f64::NAN), (3.0, 2.0), (4.0, 1.0)];
        let svg = chart("loss: <x>", &[Some(&a), None, Some(&b)]);
        assert_eq!(svg.matches("<polyline").count(), 3, "a, and b in two pieces: {svg}");
        assert!(svg.contains(COLOURS[0]) && svg.contains(COLOURS[2]) && !svg.contains(COLOURS[1]));
        assert!(svg.contains("loss: &lt;x&gt;") && !svg.contains("NaN"));
        assert_eq!(svg.matches("<circle").count(), 1, "b's one-point piece is drawn as a dot");
    }

    #[test]
    fn a_chart_file_is_standalone_svg_with_a_legend() {
        let a: Series = vec![(1.0, 3.0), (2.0, 2.0)];
        let svg = chart_file(&[("divergences", vec![("KL(p||q)", a.clone()), ("JSD", a.clone())]), ("exact", vec![("KL", a)])]);
        assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("<style>") && svg.contains("KL(p||q)") && svg.contains(">JSD<"));
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert_eq!(svg.matches("<svg").count(), 3, "one file, a chart per row");
        assert!(svg.contains("<svg y=\"250\" "), "the second chart sits below the first");
    }

    #[test]
    fn spaced_keeps_the_ends_and_at_most_n() {
        let v: Vec<usize> = (0..100).collect();
        let s = spaced(&v, 12);
        assert_eq!((s.len(), s[0], *s.last().unwrap()), (12, 0, 99));
        assert_eq!(spaced(&v[..5], 12), v[..5]);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(num(1234.5678), "1235");
        assert_eq!(num(0.012346), "0.01235");
        assert_eq!(num(-97.25), "-97.25");
        assert_eq!(num(2.5e-7), "2.500e-7");
    }
}
