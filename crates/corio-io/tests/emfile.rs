//! `accept` when the process is out of descriptors: an error the server can
//! log and survive, not a crash and not a busy loop. Alone in its binary
//! because it lowers the process's descriptor limit.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::block_on_within;
use corio_io::net::TcpListener;
use corio_io::time::wait_for;

fn highest_open_fd() -> i32 {
    std::fs::read_dir("/proc/self/fd")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
                .max()
                .unwrap_or(2)
        })
        .unwrap_or(1024)
}

#[test]
fn accept_survives_emfile() {
    block_on_within(Duration::from_secs(60), async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Three connections wait in the backlog.
        let clients: Vec<_> = (0..3)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();

        // Lower the soft limit a little above what is open, then use up the
        // rest with /dev/null.
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit/setrlimit write/read the local `lim` only.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        let original = lim;
        lim.rlim_cur = (highest_open_fd() + 32) as libc::rlim_t;
        // SAFETY: as above.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
        let mut filler = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => filler.push(f),
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(libc::EMFILE));
                    break;
                }
            }
        }

        // The error reaches the caller.
        let err = listener.accept().await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE));

        // A server loop that logs and retries does not spin: over 300 ms it
        // gets a handful of attempts (one per pause), not thousands.
        let attempts = AtomicUsize::new(0);
        let serve = async {
            loop {
                // Relaxed: counted and read by this one thread.
                attempts.fetch_add(1, Ordering::Relaxed);
                if let Ok(s) = listener.accept().await {
                    panic!("accept succeeded while out of descriptors: {s:?}");
                }
            }
        };
        assert!(wait_for(serve, Duration::from_millis(300)).await.is_err());
        let n = attempts.load(Ordering::Relaxed);
        assert!(n >= 1);
        assert!(n < 100, "accept loop spun {n} times in 300 ms");

        // Descriptors come back: every waiting connection is accepted.
        drop(filler);
        assert_eq!(
            // SAFETY: as above.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &original) },
            0
        );
        for _ in 0..clients.len() {
            let (s, peer) = listener.accept().await.unwrap();
            assert_eq!(s.peer_addr().unwrap(), peer);
        }
    });
}
