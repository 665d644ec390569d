use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[test]
fn smoke() {
    let rt = corio_rt::Builder::new().worker_threads(2).build().unwrap();
    let n = Arc::new(AtomicUsize::new(0));
    let out = rt.block_on({
        let n = n.clone();
        async move {
            let mut hs = Vec::new();
            for i in 0..1000 {
                let n = n.clone();
                hs.push(corio_rt::spawn(async move {
                    corio_rt::yield_now().await;
                    n.fetch_add(1, Ordering::Relaxed);
                    i
                }));
            }
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        }
    });
    assert_eq!(out, (0..1000).sum::<i32>());
    assert_eq!(n.load(Ordering::Relaxed), 1000);
}
