//! The smallest corio program: `#[corio::main]`, a few tasks, a gather.
//!
//! `cargo run -p corio --example hello`

use std::time::Duration;

#[corio::main]
async fn main() -> Result<(), corio::task::JoinError> {
    let handles: Vec<_> = (1..=3u64)
        .map(|i| {
            corio::spawn(async move {
                corio::time::sleep(Duration::from_millis(10 * i)).await;
                format!("task {i} done")
            })
        })
        .collect();
    for line in corio::gather(handles).await {
        println!("{}", line?);
    }
    Ok(())
}
