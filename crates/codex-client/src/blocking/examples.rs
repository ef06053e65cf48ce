//! One example per blocking type, in blocking form: the generated types take their example from
//! here (`#[doc = example!(Name)]`), since the async examples they copy the prose of do not apply.
//! The generator fails for a wrapped type with no arm.

macro_rules! example {
    (Codex) => {
        r#"
```no_run
use codex_client::blocking::{Codex, CodexConfig, ThreadOptions};

fn main() -> Result<(), codex_client::Error> {
    let codex = Codex::spawn(CodexConfig::new())?;
    let thread = codex.start_thread(ThreadOptions::new())?;
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
let thread = codex.start_thread(ThreadOptions::new().model("gpt-5"))?;
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
# Ok(()) }
```"#
    };
    (ChatgptLogin) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let mut login = codex.login_chatgpt()?;
println!("Open {}", login.auth_url());
println!("success: {}", login.wait()?.success);
# Ok(()) }
```"#
    };
    (DeviceCodeLogin) => {
        r#"
```no_run
# fn f(codex: codex_client::blocking::Codex) -> Result<(), codex_client::Error> {
let mut login = codex.login_chatgpt_device_code()?;
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
let mut exec = codex.exec_streaming(params)?;
for chunk in &mut exec {
    print!("{}", String::from_utf8_lossy(&chunk?.data));
}
println!("exit {}", exec.wait()?.exit_code);
# Ok(()) }
```"#
    };
}
