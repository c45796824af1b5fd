//! `unigen models`: every model with a line on what it is and its place in the unified
//! formulation (Hu et al. 2018, Table 1), from [`ModelKind::correspondence`].

use clap::ValueEnum;
use serde_json::json;

use unigen::models::ModelKind;

#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_: Args) -> anyhow::Result<()> {
    let rows: Vec<(ModelKind, String)> = ModelKind::all()
        .iter()
        .map(|&m| {
            let help = m.to_possible_value().and_then(|v| v.get_help().map(|h| h.to_string())).unwrap_or_default();
            (m, help)
        })
        .collect();
    if super::ui().json {
        let out: Vec<_> = rows
            .iter()
            .map(|(m, help)| {
                let c = m.correspondence();
                json!({
                    "model": m.name(), "description": help, "baseline": m.baseline().map(|b| b.name()),
                    "generator": c.generator, "inference": c.inference, "discriminator": c.discriminator,
                    "kl": c.kl, "wake_sleep_phase": c.phase,
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    for (m, help) in rows {
        let c = m.correspondence();
        println!("{}  {}", m.name(), help);
        println!("    generator      {}", c.generator);
        println!("    inference      {}", c.inference);
        println!("    discriminator  {}", c.discriminator);
        println!("    minimises      {}", c.kl);
        println!("    wake-sleep     {}", c.phase);
        if let Some(b) = m.baseline() {
            println!("    transferred    from {} (compare with `unigen train {}`)", b.name(), b.name());
        }
        println!();
    }
    println!("docs/unified.md explains the table and where each piece lives in the code.");
    Ok(())
}
