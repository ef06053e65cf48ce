//! One example per blocking type, in blocking form: the generated types take their example from
//! here (`#[doc = example!(Name)]`), since the async examples they copy the prose of do not apply.
//! The generator fails for a wrapped type with no arm.

macro_rules! example {
    (Codex) => {
        r#"
```no_run
use codex_client::blocking::{Codex, ThreadOptions};

fn main() -> Result<(), codex_client::Error> {
    let codex = Codex::start()?;
    let thread = codex.threads().start(ThreadOptions::new())?;
    let result = thread.run("Say hello in one sentence.")?;
    println!("{}", result.final_response().unwrap_or_default());
    codex.close();
    Ok(())
}
```"#
    };
    (Thread) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
use codex_client::ThreadOptions;
let thread = codex.threads().start(ThreadOptions::new().model("gpt-5"))?;
println!("{} on {:?}", thread.id(), thread.model());
// Clones share the thread: run turns from other OS threads.
let elsewhere = thread.clone();
let result = std::thread::spawn(move || elsewhere.run("Say hello in one sentence."))
    .join()
    .expect("the thread")?;
println!("{}", result.final_response().unwrap_or_default());
# Ok(()) }
```"#
    };
    (TurnHandle) => {
        r#"
```no_run
# fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
use codex_client::TurnEvent;
use codex_client::protocol::ServerNotification;

let mut turn = thread.turn("Tell me a story")?;
for event in &mut turn {
    if let TurnEvent::Notification(n) = event? {
        if let ServerNotification::ItemAgentMessageDelta(delta) = &*n {
            print!("{}", delta.delta);
        }
    }
}
let result = turn.run()?; // everything it saw, already complete
println!("\n[{:?}]", result.status);
# Ok(()) }
```"#
    };
    (TurnControl) => {
        r#"
```no_run
# fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
let turn = thread.turn("Write a long essay")?;
let control = turn.control();
let running = std::thread::spawn(move || turn.run());
control.interrupt()?;
let result = running.join().expect("the thread")?;
assert!(result.is_interrupted());
# Ok(()) }
```"#
    };
    (NotificationStream) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let mut events = codex.notifications();
std::thread::spawn(move || {
    for n in &mut events {
        match n {
            Ok(n) => println!("{}", n.method()),
            Err(err) => eprintln!("{err}"),
        }
    }
});
// The raw path: no typed decode, everything already queued in one call.
let mut raw = codex.notifications();
let mut batch = Vec::new();
while let Some(n) = raw.next_raw_batch(&mut batch, 256) {
    n?;
    for event in batch.drain(..) {
        if let Some(n) = event.notification() {
            println!("{} {}", n.method(), n.params().unwrap_or("null"));
        }
    }
}
# Ok(()) }
```"#
    };
    (ChatgptLogin) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let mut login = codex.account().login_chatgpt()?;
println!("Open {}", login.auth_url());
println!("success: {}", login.wait()?.success);
# Ok(()) }
```"#
    };
    (DeviceCodeLogin) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let mut login = codex.account().login_device_code()?;
println!("Go to {} and enter {}", login.verification_url(), login.user_code());
login.wait()?;
# Ok(()) }
```"#
    };
    (GoalHandle) => {
        r#"
```no_run
# fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
let mut goal = thread.start_goal("Make the tests pass")?;
for event in &mut goal {
    let _ = event?;
}
println!("{:?}", goal.run()?.status());
# Ok(()) }
```"#
    };
    (GoalControl) => {
        r#"
```no_run
# fn f(thread: codex_client::blocking::Thread) -> Result<(), codex_client::Error> {
let goal = thread.start_goal("Make the tests pass")?;
let control = goal.control();
let running = std::thread::spawn(move || goal.run());
control.steer("Start with the parser tests.")?;
println!("{:?} on {}", running.join().expect("the thread")?.status(), control.thread_id());
# Ok(()) }
```"#
    };
    (CommandExec) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let params = serde_json::from_value(serde_json::json!({"command": ["ls", "-l"]})).unwrap();
let mut exec = codex.commands().spawn(params)?;
for chunk in &mut exec {
    print!("{}", String::from_utf8_lossy(&chunk?.data));
}
println!("exit {}", exec.wait()?.exit_code);
# Ok(()) }
```"#
    };
    (CodexBuilder) => {
        r#"
```no_run
use codex_client::blocking::{Codex, ConnectionConfig, SpawnConfig};
use std::time::Duration;

fn main() -> Result<(), codex_client::Error> {
    let codex = Codex::builder()
        .connection(ConnectionConfig::new().request_timeout(Duration::from_secs(30)))
        .spawn(SpawnConfig::new().cwd("/work/repo"))?;
    println!("{:?}", codex.server_info().map(|info| &info.user_agent));
    codex.close();
    Ok(())
}
```"#
    };
    (Threads) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
use codex_client::{ListThreads, ThreadOptions};
let thread = codex.threads().start(ThreadOptions::new())?;
let page = codex.threads().list(ListThreads::new().limit(10))?;
println!("{} threads listed; started {}", page.threads.len(), thread.id());
let again = codex.threads().resume(thread.id(), ThreadOptions::new())?;
# let _ = again; Ok(()) }
```"#
    };
    (Account) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let account = codex.account().read()?;
if account.account.is_none() && account.requires_openai_auth {
    let key = std::env::var("OPENAI_API_KEY").expect("a key to log in with");
    codex.account().login_api_key(key)?;
}
# Ok(()) }
```"#
    };
    (Models) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
for model in codex.models().list()? {
    println!("{}", model.id);
}
# Ok(()) }
```"#
    };
    (Files) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
codex.files().create_dir_all("/tmp/codex-demo/notes")?;
codex.files().write("/tmp/codex-demo/notes/a.txt", b"hello")?;
let bytes = codex.files().read("/tmp/codex-demo/notes/a.txt")?;
assert_eq!(bytes, b"hello");
codex.files().remove_all("/tmp/codex-demo")?;
# Ok(()) }
```"#
    };
    (ServerConfig) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let config = codex.server_config().read()?;
println!("{:?}", config.config.model);
# Ok(()) }
```"#
    };
    (Mcp) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
for server in codex.mcp().servers()? {
    println!("{}", server.name);
}
# Ok(()) }
```"#
    };
    (Skills) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let skills = codex.skills().list(&["/work/repo"])?;
println!("{} entries", skills.len());
# Ok(()) }
```"#
    };
    (Commands) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let output = codex.commands().run(["ls", "-l"])?;
println!("exit {}: {}", output.exit_code, output.stdout);
# Ok(()) }
```"#
    };
}
