//! Starting `codex app-server`: finding the binary (`discovery`: [`find_codex_binary`]) and
//! building its command line (`command`: [`SpawnConfig`]).
//!
//! Discovery order (the first hit wins):
//!
//! 1. the explicit path in [`SpawnConfig::codex_bin`];
//! 2. the `CODEX_BIN` environment variable;
//! 3. the pinned runtime package `openai-codex-cli-bin` pip-installed in the **active
//!    virtualenv** (`$VIRTUAL_ENV/lib/python3.*/site-packages/codex_cli_bin/bin/codex`): the
//!    package has no entry point, so `pip install` puts no `codex` on `PATH`; activating the
//!    virtualenv it was installed into is how this SDK finds it (as the official Python SDK
//!    finds it by importing the package);
//! 4. `codex` on `PATH`.
//!
//! Nothing else: the SDK never looks into the directory it was built in or into a Cargo target
//! directory (the test kit, `codex-client-testkit`, does that for this project's own tests). An
//! explicit path or `CODEX_BIN` that does not exist is an error, not a reason to look elsewhere:
//! silently running another binary than the one asked for hides mistakes. When nothing is found,
//! [`Error::BinaryNotFound`] lists what was searched and gives the commands that install the
//! pinned runtime.
//!
//! # The runtime's helper tools
//!
//! The runtime package ships helper binaries next to `bin/codex`: `codex-path/` (`rg`, which the
//! agent's file search uses). When the binary to run sits in that layout (`<pkg>/bin/codex`
//! beside `<pkg>/codex-package.json` and `<pkg>/codex-path/`, symlinks resolved), the child's
//! `PATH` gets `<pkg>/codex-path` in front — whichever way the binary was found.
//! [`SpawnConfig::runtime_path(false)`](SpawnConfig::runtime_path) turns that off.
//!
//! ```no_run
//! // What the SDK would run, and why not when it finds nothing:
//! match codex_client::find_codex_binary(None) {
//!     Ok(path) => println!("codex: {}", path.display()),
//!     Err(err) => eprintln!("{err}"),
//! }
//! ```

mod command;
mod discovery;

pub use command::SpawnConfig;
pub use discovery::{
    CODEX_BIN_ENV, RUNTIME_PACKAGE, VIRTUAL_ENV_ENV, find_codex_binary, pip_runtime_binary,
    runtime_path_dir,
};
