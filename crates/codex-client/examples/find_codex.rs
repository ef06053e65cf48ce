//! Which `codex` would the SDK run? Prints the binary `Codex::start` would start (and the
//! runtime package's helper directory it puts on the app-server's `PATH`), or the
//! `BinaryNotFound` message: every place searched and the commands that install the pinned
//! runtime. Starts nothing.
//!
//! Run: `cargo run -p codex-client --example find_codex`, e.g. after the getting-started recipe
//! (`export CODEX_BIN=...`, or `. ~/.codex-runtime/bin/activate`). Exits 1 when nothing is found.

fn main() -> std::process::ExitCode {
    match codex_client::find_codex_binary(None) {
        Ok(path) => {
            println!("codex: {}", path.display());
            if let Some(helpers) = codex_client::runtime_path_dir(&path) {
                println!(
                    "helper tools (put first on the app-server's PATH): {}",
                    helpers.display()
                );
            }
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("{err}");
            std::process::ExitCode::FAILURE
        }
    }
}
