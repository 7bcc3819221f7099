//! `rally-sim --port 0 --seed <N> --api-key <KEY> [--latency-ms <MS>] [--max-seconds <S>]
//! [--faults <SPEC>] [--extra-api-key KEY=UserName]... [--extra-stories <N>]
//! [--schedule-states Idea,Defined,In-Progress,Completed,Accepted,Released] [--tls]
//! [--custom-field HierarchicalRequirement:c_Team:string:required:allowed=Red,Blue]... [--no-pull-requests]`
//!
//! Prints one JSON line `{"url","apiKey","workspace","project"}` (with `--tls` also
//! `"caFile","caPem"`: the CA to trust) and serves until
//! `--max-seconds` (default 600), SIGTERM/SIGINT, or stdin closing.

use rally_sim::{start, SimConfig};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: rally-sim --port <P> --seed <N> --api-key <KEY> [--latency-ms <MS>] \
[--max-seconds <S>] [--faults <SPEC>] [--extra-api-key KEY=UserName]... [--extra-stories <N>] [--schedule-states A,B,...] [--tls] \
[--custom-field Type:c_Name:type[:required][:allowed=A,B][:max=N][:display=Text]]... [--no-pull-requests]";

fn parse_args(args: &[String]) -> Result<(SimConfig, u64), String> {
    let mut cfg = SimConfig::default();
    let mut key = None;
    let mut max_seconds = 600;
    let mut i = 0;
    while i < args.len() {
        let flag = args[i].as_str();
        if flag == "--tls" {
            cfg.tls = true;
            i += 1;
            continue;
        }
        if flag == "--no-pull-requests" {
            cfg.pull_requests = false;
            i += 1;
            continue;
        }
        let value = args.get(i + 1).ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let num = |v: &str| v.parse::<u64>().map_err(|_| format!("{flag}: not a number: {v}"));
        match flag {
            "--port" => cfg.port = num(value)?.try_into().map_err(|_| "--port: out of range".to_string())?,
            "--seed" => cfg.seed = num(value)?,
            "--api-key" => key = Some(value.clone()),
            "--latency-ms" => cfg.latency_ms = num(value)?,
            "--max-seconds" => max_seconds = num(value)?,
            "--faults" => cfg.faults = Some(value.clone()),
            "--extra-stories" => cfg.extra_stories = num(value)? as usize,
            "--schedule-states" => {
                cfg.schedule_states = Some(value.split(',').map(|s| s.trim().to_string()).collect());
            }
            "--custom-field" => cfg.custom_fields.push(value.clone()),
            "--extra-api-key" => {
                let (k, u) = value.split_once('=').ok_or("--extra-api-key wants KEY=UserName")?;
                cfg.extra_keys.push((k.to_string(), u.to_string()));
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
        i += 2;
    }
    cfg.api_key = key.ok_or_else(|| format!("--api-key is required\n{USAGE}"))?;
    Ok((cfg, max_seconds))
}

/// True when stdin is /dev/null: nobody supervises us through it.
fn stdin_is_null() -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata("/proc/self/fd/0"), std::fs::metadata("/dev/null")) {
        (Ok(a), Ok(b)) => a.rdev() == b.rdev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Watches stdin from the first moment; the receiver gets the instant of EOF.
fn watch_stdin() -> Option<tokio::sync::oneshot::Receiver<Instant>> {
    if stdin_is_null() {
        return None;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut stdin = std::io::stdin();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = tx.send(Instant::now());
    });
    Some(rx)
}

/// Resolves when stdin closes after the JSON line went out. A stdin that was already closed
/// (or /dev/null) means nobody supervises us through it, so that never resolves.
async fn stdin_closed(rx: Option<tokio::sync::oneshot::Receiver<Instant>>, announced: Instant) {
    match rx {
        Some(rx) => match rx.await {
            Ok(eof) if eof >= announced => {}
            _ => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

#[tokio::main]
async fn main() {
    let stdin_eof = watch_stdin();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cfg, max_seconds) = match parse_args(&args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("rally-sim: {e}");
            std::process::exit(2);
        }
    };
    // Handlers go in before the JSON line: a supervisor may signal as soon as it reads it.
    use tokio::signal::unix::{signal, SignalKind};
    let mut sigterm = signal(SignalKind::terminate()).ok();
    let mut sigint = signal(SignalKind::interrupt()).ok();
    let mut handle = match start(cfg).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("rally-sim: {e}");
            std::process::exit(1);
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", handle.json_line());
        let _ = out.flush();
    }
    let announced = Instant::now();
    let received = |s: Option<tokio::signal::unix::Signal>| async move {
        match s {
            Some(mut s) => {
                s.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(max_seconds)) => {}
        _ = received(sigint.take()) => {}
        _ = received(sigterm.take()) => {}
        _ = stdin_closed(stdin_eof, announced) => {}
    }
    handle.shutdown();
    // Idle keep-alive connections must not hold the process open.
    let _ = tokio::time::timeout(Duration::from_millis(500), handle.stopped()).await;
    // Dropping the handle removes the CA file of `--tls`.
    drop(handle);
    std::process::exit(0);
}
