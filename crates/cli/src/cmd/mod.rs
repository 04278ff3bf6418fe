//! One module per subcommand, each an `Args` struct with `run(json)`.

pub mod bench;
pub mod bundle;
pub mod compile;
pub mod demo;
pub mod inspect;
pub mod prove;
pub mod run;
pub mod verify;
