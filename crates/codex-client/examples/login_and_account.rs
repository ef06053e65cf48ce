//! Login and account: who is logged in, an API-key login (from `OPENAI_API_KEY`, never printed),
//! or the ChatGPT browser flow as a handle (open the URL, wait, or cancel), then the account,
//! the models, and — with a ChatGPT login — rate limits.
//!
//! Needs `codex` (found through `CODEX_BIN`, the active virtualenv, then `PATH`). Run:
//! `OPENAI_API_KEY=sk-... cargo run --example login_and_account`, or without the variable to
//! try the browser flow (it is cancelled after two minutes), or with `LOGOUT=1` to log out.

use codex_client::protocol::Account;
use codex_client::{Codex, Secret};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), codex_client::Error> {
    let codex = Codex::start().await?;

    let before = codex.account().read().await?;
    println!(
        "provider needs an OpenAI login: {}",
        before.requires_openai_auth
    );
    println!("account before: {}", describe(before.account.as_ref()));

    if std::env::var_os("LOGOUT").is_some() {
        codex.account().logout().await?;
        println!("logged out");
    } else if let Ok(key) = std::env::var("OPENAI_API_KEY") {
        // `Secret` prints as [REDACTED]: the key cannot end up in a log by accident.
        let key = Secret::new(key);
        println!("logging in with {key}");
        codex.account().login_api_key(key).await?;
    } else if before.account.is_none() {
        let mut login = codex.account().login_chatgpt().await?;
        println!(
            "Open this URL to log in with ChatGPT:\n{}",
            login.auth_url()
        );
        match tokio::time::timeout(Duration::from_secs(120), login.wait()).await {
            Ok(done) => {
                let done = done?;
                println!("login finished: success={} {:?}", done.success, done.error);
            }
            Err(_) => println!("no login after two minutes: {}", login.cancel().await?),
        }
    }

    // `true` asks the server to refresh managed ChatGPT tokens first.
    let after = codex.account().read_refreshed().await?;
    println!("account now: {}", describe(after.account.as_ref()));
    if matches!(after.account, Some(Account::Chatgpt(_))) {
        let limits = codex.account().rate_limits().await?;
        println!("rate limits: {:?}", limits.rate_limits.primary);
    }

    let models = codex.models().list().await?;
    let names: Vec<&str> = models.iter().map(|m| m.id.as_str()).collect();
    println!("models: {}", names.join(", "));
    let caps = codex.models().provider_capabilities().await?;
    println!(
        "provider: web search {}, image generation {}",
        caps.web_search, caps.image_generation
    );

    codex.close().await;
    Ok(())
}

fn describe(account: Option<&Account>) -> String {
    match account {
        None => "none".to_owned(),
        Some(Account::ApiKey) => "API key".to_owned(),
        Some(Account::Chatgpt(chatgpt)) => format!("ChatGPT ({:?})", chatgpt.email),
        Some(other) => other.tag().to_owned(),
    }
}
