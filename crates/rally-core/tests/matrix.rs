//! The fault matrix: every operation × every fault kind of the simulator, fired once on the
//! operation's own request. Each cell must succeed within the retry budget or fail with the
//! right code — and the simulator's state afterwards must show no duplicate and no lost write.

mod common;

use common::{env, Env};
use rally_core::{IssueFilters, IssueState, IssueUpdate, NewIssue, RallyError, Tracker};

#[derive(Debug, Clone, Copy, PartialEq)]
enum OpName {
    Get,
    List,
    Comments,
    Create,
    Update,
    Transition,
    AddComment,
    LinkPr,
    Delete,
}

const OPS: [OpName; 9] = [
    OpName::Get,
    OpName::List,
    OpName::Comments,
    OpName::Create,
    OpName::Update,
    OpName::Transition,
    OpName::AddComment,
    OpName::LinkPr,
    OpName::Delete,
];

const FAULTS: [&str; 10] =
    ["503", "502", "504", "524", "429=0", "drop-before", "drop-after", "truncate", "html", "errors"];

fn method(op: OpName) -> &'static str {
    match op {
        OpName::Get | OpName::List | OpName::Comments => "GET",
        OpName::Delete => "DELETE",
        _ => "POST",
    }
}

/// What a cell must end in: `None` = success.
fn expected(fault: &str) -> Option<&'static str> {
    match fault {
        "html" => Some("RALLY_PROTOCOL"),
        "errors" => Some("RALLY_REJECTED"),
        _ => None,
    }
}

async fn run(op: OpName, t: &Tracker, target: &str, tag: &str) -> Result<(), RallyError> {
    match op {
        OpName::Get => t.get_issue(target).await.map(drop),
        OpName::List => {
            t.list_issues(IssueFilters { include_closed: Some(true), ..Default::default() }).await.map(drop)
        }
        OpName::Comments => t.get_comments(target).await.map(drop),
        OpName::Create => t.create_issue(NewIssue { title: tag.into(), ..Default::default() }).await.map(drop),
        OpName::Update => {
            t.update_issue(target, IssueUpdate { title: Some(tag.into()), ..Default::default() }).await.map(drop)
        }
        OpName::Transition => t.transition_issue(target, IssueState::Closed).await,
        OpName::AddComment => t.add_comment(target, tag).await.map(drop),
        OpName::LinkPr => {
            t.link_pr(
                target,
                &format!(
                    "https://github.com/acme/shop/pull/{}",
                    tag.len() * 1000 + tag.bytes().map(u32::from).sum::<u32>() as usize
                ),
            )
            .await
        }
        OpName::Delete => t.delete_issue(target).await,
    }
}

/// The simulator's state after a cell, read with a tracker that has no cache.
async fn check_state(e: &Env, op: OpName, target: &str, tag: &str, ok: bool, cell: &str) {
    let fresh = e.tracker();
    match op {
        OpName::Create => {
            assert_eq!(e.count_named("hierarchicalrequirement", tag).await, u64::from(ok), "{cell}: copies");
        }
        OpName::Update => {
            let title = fresh.get_issue(target).await.unwrap().title;
            assert_eq!(title == tag, ok, "{cell}: title {title:?}");
        }
        OpName::Transition => {
            let s = fresh.get_issue(target).await.unwrap().state;
            assert_eq!(s == IssueState::Closed, ok, "{cell}: state {s:?}");
        }
        OpName::AddComment => {
            let n = fresh.get_comments(target).await.unwrap().iter().filter(|c| c.body.trim() == tag).count();
            assert_eq!(n, usize::from(ok), "{cell}: comments");
        }
        OpName::LinkPr => {
            let n = fresh.get_comments(target).await.unwrap().iter().filter(|c| c.body.contains("/pull/")).count();
            assert_eq!(n, usize::from(ok), "{cell}: PR links");
        }
        OpName::Delete => {
            let gone = fresh.get_issue(target).await.map_err(|e| e.code());
            assert_eq!(gone.is_err(), ok, "{cell}: deleted? {gone:?}");
        }
        OpName::Get | OpName::List | OpName::Comments => {}
    }
}

#[tokio::test]
async fn every_operation_under_every_fault() {
    let e = env().await;
    let mut cells = 0;
    for (i, op) in OPS.into_iter().enumerate() {
        for (j, fault) in FAULTS.into_iter().enumerate() {
            let cell = format!("{op:?} × {fault}");
            let setup = e.tracker();
            let target = setup
                .create_issue(NewIssue { title: format!("matrix target {i}.{j}"), ..Default::default() })
                .await
                .unwrap()
                .reference;
            let tag = format!("matrix {i}.{j} {fault}");
            // A warm tracker, so the fault hits the operation's own request.
            let t = e.tracker();
            t.get_issue(&target).await.unwrap();
            e.faults(&format!("{fault}@{} *#next=1", method(op))).await;
            let got = run(op, &t, &target, &tag).await;
            e.clear_faults().await;
            match (expected(fault), &got) {
                (None, Ok(())) => {}
                (Some(code), Err(err)) => assert_eq!(err.code(), code, "{cell}: {err}"),
                (want, got) => panic!("{cell}: expected {want:?}, got {got:?}"),
            }
            check_state(&e, op, &target, &tag, got.is_ok(), &cell).await;
            cells += 1;
        }
    }
    assert_eq!(cells, OPS.len() * FAULTS.len());
}
