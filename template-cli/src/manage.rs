//! Shared by the commands that manage templates on a build service (`list`, `status`, `exists`,
//! `tags`, `delete`): which service, the client, and printing what the service sent so that it
//! cannot drive the terminal.

use std::future::Future;
use std::process::ExitCode;

use sandbox_template_runtime::Provider;
use sandbox_template_runtime::cloud::{Client, CloudError, terminal_safe};

/// Which build service to ask, and how to print the answer.
#[derive(clap::Args, Debug, Clone)]
pub struct Service {
    /// Build service: `e2b` (E2B_API_KEY, E2B_API_URL) or `novita` (NOVITA_API_KEY, NOVITA_API_URL).
    #[arg(long, default_value = "e2b", value_name = "e2b|novita")]
    pub provider: Provider,
    /// Print the answer as JSON (the API's field names) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs `work` with a client of `service` (configured from the environment) on a fresh async
/// runtime. On failure the error is printed and `Err` carries the exit code: `error_code` for
/// an error, 130 for Ctrl-C.
pub fn with_client<T, F, Fut>(service: &Service, error_code: u8, work: F) -> Result<T, ExitCode>
where
    F: FnOnce(Client) -> Fut,
    Fut: Future<Output = Result<T, CloudError>>,
{
    let runtime = crate::runtime()?;
    let fail = |e: CloudError| {
        eprintln!("error: {}", terminal_safe(&e.to_string()));
        ExitCode::from(error_code)
    };
    runtime.block_on(async {
        let client = Client::from_env(service.provider).map_err(fail)?;
        tokio::select! {
            result = work(client) => result.map_err(fail),
            _ = tokio::signal::ctrl_c() => {
                eprintln!("cancelled");
                Err(ExitCode::from(130))
            }
        }
    })
}

/// Prints `value` as pretty JSON. serde_json escapes C0 controls in strings; DEL and the C1
/// controls (which terminals obey too) are escaped here, so the JSON means the same and the
/// terminal sees none of them.
pub fn print_json<T: serde::Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    println!("{}", escape_c1(&text));
}

fn escape_c1(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if ('\u{7f}'..='\u{9f}').contains(&c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Server text for one line of output: terminal controls removed, newlines and tabs as spaces.
pub fn one_line(text: &str) -> String {
    terminal_safe(text).replace(['\n', '\t'], " ")
}

/// Prints `rows` as aligned columns under `header` (each cell made [`one_line`]).
pub fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| one_line(c)).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}  "));
            }
        }
        println!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in &rows {
        line(row.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_escapes_c1_and_del() {
        let value = serde_json::json!({"name": "a\u{9b}2Jb\u{7f}c\u{1b}[0m"});
        let text = escape_c1(&serde_json::to_string(&value).unwrap());
        assert_eq!(text, r#"{"name":"a\u009b2Jb\u007fc\u001b[0m"}"#);
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn table_cells_are_one_safe_line() {
        assert_eq!(one_line("a\nb\tc\u{1b}]0;t\u{7}\rd"), "a b cd");
    }
}
