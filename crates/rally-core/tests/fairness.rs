//! Trackers sharing one key share Rally's in-flight limit fairly: a tracker with a low
//! `maxConcurrency` is served in its turn (FIFO across trackers), not after another tracker's
//! whole queue. Against the simulator over HTTP.

mod common;
use common::*;
use rally_core::{Tracker, TrackerConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_low_cap_tracker_is_served_in_its_turn_behind_another_trackers_long_queue() {
    let e = env().await;
    let id = e
        .tracker()
        .create_issue(rally_core::NewIssue { title: "busy".into(), ..Default::default() })
        .await
        .unwrap()
        .reference;
    e.faults("latency=15@GET *").await;
    let a = Arc::new(Tracker::new(TrackerConfig { max_concurrency: Some(8), ..e.config() }).unwrap());
    let b = Tracker::new(TrackerConfig { max_concurrency: Some(2), ..e.config() }).unwrap();
    let done = Arc::new(AtomicUsize::new(0));
    const A_CALLS: usize = 400;
    let queue: Vec<_> = (0..A_CALLS)
        .map(|_| {
            let (a, done, id) = (a.clone(), done.clone(), id.clone());
            tokio::spawn(async move {
                a.get_issue(&id).await.unwrap();
                done.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    // A's queue is long by now.
    while done.load(Ordering::SeqCst) < 8 {
        tokio::task::yield_now().await;
    }
    b.get_issue(&id).await.unwrap();
    let a_done_when_b_was = done.load(Ordering::SeqCst);
    for q in queue {
        q.await.unwrap();
    }
    let stats = e.stats().await;
    assert!(stats["maxInFlight"].as_u64().unwrap() <= 8, "{stats}");
    // Served in its turn: A still had most of its calls to make.
    assert!(a_done_when_b_was < A_CALLS / 2, "B waited for {a_done_when_b_was} of A's {A_CALLS} calls");
}
