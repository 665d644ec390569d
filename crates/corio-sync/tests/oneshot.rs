#![cfg(not(loom))] // these use real threads; the loom models are in loom-tests/
mod common;

use std::sync::Arc;

use common::*;
use corio_sync::oneshot::{channel, Receiver, RecvError, Sender, TryRecvError};

#[test]
fn types_are_send_and_sync() {
    assert_send_sync::<Sender<String>>();
    assert_send_sync::<Receiver<String>>();
}

#[test]
fn send_then_receive() {
    let (tx, rx) = channel();
    tx.send(5).unwrap();
    assert_eq!(block_on(rx), Ok(5));
}

#[test]
fn receive_waits_for_send() {
    let (tx, rx) = channel();
    let mut r = pending(rx);
    tx.send("hi").unwrap();
    assert!(r.woken());
    assert_eq!(r.ready(), Ok("hi"));
}

#[test]
fn dropped_sender_is_an_error() {
    let (tx, rx) = channel::<u8>();
    let mut r = pending(rx);
    drop(tx);
    assert!(r.woken());
    assert_eq!(r.ready(), Err(RecvError));
}

#[test]
fn dropped_or_closed_receiver_gives_the_value_back() {
    let (tx, rx) = channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
    let (tx, mut rx) = channel();
    rx.close();
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn try_recv_states() {
    let (tx, mut rx) = channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn value_is_dropped_exactly_once_when_unreceived() {
    let v = Arc::new(());
    let (tx, rx) = channel();
    tx.send(v.clone()).unwrap();
    drop(rx);
    assert_eq!(Arc::strong_count(&v), 1);
}

#[test]
fn across_threads() {
    for i in 0..scale(500) {
        let (tx, rx) = channel();
        let t = std::thread::spawn(move || tx.send(i).unwrap());
        assert_eq!(on_thread(move || block_on(rx)), Ok(i));
        t.join().unwrap();
    }
}
