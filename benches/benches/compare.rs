fn main() {
    println!("compare: no workloads yet");
}
