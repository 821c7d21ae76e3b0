//! `missive config check|show`.

use std::io::Write;

use missive::cli::Global;
use missive::jsonl::Format;

use crate::{Failure, OK, config_path, home, load_config, output_format, usage};

pub(crate) fn check(global: &Global) -> Result<u8, Failure> {
    let path = config_path(global)?;
    let config = missive::config::Config::load(&path, home().as_deref()).map_err(usage)?;
    let mut stderr = std::io::stderr().lock();
    for warning in config.warnings() {
        let _ = writeln!(stderr, "missive: {}: warning: {warning}", path.display());
    }
    println!(
        "{}: ok, {} account{}",
        path.display(),
        config.accounts.len(),
        if config.accounts.len() == 1 { "" } else { "s" }
    );
    Ok(OK)
}

pub(crate) fn show(global: &Global) -> Result<u8, Failure> {
    let config = load_config(global)?;
    let text = match output_format(global) {
        Format::Text => toml::to_string_pretty(&config).map_err(usage)?,
        Format::Json | Format::Jsonl => {
            let mut value = serde_json::to_value(&config).map_err(usage)?;
            if let Some(object) = value.as_object_mut() {
                object.insert("kind".into(), "config".into());
                object.insert("v".into(), missive::record::VERSION.into());
            }
            format!("{value}\n")
        }
    };
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(usage)?;
    Ok(OK)
}
