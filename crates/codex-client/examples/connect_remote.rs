//! Connects to a running app-server and runs one turn.
//!
//! ```sh
//! # start a server (see docs/remote.md), then:
//! cargo run -p codex-client --features tls --example connect_remote -- ws://127.0.0.1:4500 "Say hello"
//! CODEX_WS_TOKEN_FILE=/etc/codex/ws-token cargo run -p codex-client --features tls --example connect_remote -- wss://codex.internal/ "Say hello"
//! cargo run -p codex-client --features tls --example connect_remote -- unix:// "Say hello"      # $CODEX_HOME's control socket
//! ```
//!
//! The URL comes from the first argument or `CODEX_URL`; the bearer token, if the server wants
//! one, from `CODEX_WS_TOKEN` or the file named by `CODEX_WS_TOKEN_FILE`; a custom CA for
//! `wss://` from the PEM file named by `CODEX_WS_CA_FILE`.

use codex_client::transport::ConnectOptions;
use codex_client::{Codex, Error, ThreadOptions};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(url) = args.next().or_else(|| std::env::var("CODEX_URL").ok()) else {
        eprintln!(
            "usage: connect_remote <ws://HOST:PORT | wss://HOST[:PORT] | unix://PATH | unix://> [PROMPT]\n\
             (or set CODEX_URL; token: CODEX_WS_TOKEN or CODEX_WS_TOKEN_FILE; CA: CODEX_WS_CA_FILE)"
        );
        std::process::exit(2);
    };
    let prompt = args
        .next()
        .unwrap_or_else(|| "Say hello in one sentence.".to_owned());

    let mut options = ConnectOptions::new();
    if let Ok(token) = std::env::var("CODEX_WS_TOKEN") {
        options = options.bearer_token(token);
    } else if let Ok(path) = std::env::var("CODEX_WS_TOKEN_FILE") {
        options = options.bearer_token_file(path)?;
    }
    if let Ok(path) = std::env::var("CODEX_WS_CA_FILE") {
        options = options.add_root_certificates_pem(&std::fs::read(path)?)?;
    }

    let codex = match Codex::builder().connect(&url, options).await {
        Ok(codex) => codex,
        Err(err) => {
            // What failed (refused, TLS, HTTP 401 from the upgrade, ...) is in the error.
            if let Error::Connect(connect) = &err {
                eprintln!("{:?}: {}", connect.kind, connect.detail);
            }
            return Err(err.into());
        }
    };
    println!(
        "connected: {:?}",
        codex.server_info().map(|m| &m.user_agent)
    );
    let thread = codex.threads().start(ThreadOptions::new()).await?;
    println!("thread {}", thread.id());
    let result = thread.run(prompt.as_str()).await?;
    println!("{}", result.final_response().unwrap_or_default());
    // To survive a lost connection: connect again and `codex.threads().resume(id, ...)`.
    codex.close().await;
    Ok(())
}
