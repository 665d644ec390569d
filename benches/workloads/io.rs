use super::Workload;

pub fn workloads() -> Vec<Workload> {
    Vec::new()
}
