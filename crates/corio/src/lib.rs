//! corio: Python's asyncio model on a work-stealing, multi-threaded runtime.
#![warn(missing_docs)]
