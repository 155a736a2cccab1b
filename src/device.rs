//! Which engine runs a command: the `--backend auto|gpu|cpu` and `--adapter NAME` policy.
//!
//! - `cpu`: the CPU backend.
//! - `gpu`: a GPU adapter, software ones (lavapipe/llvmpipe, SwiftShader, WARP) included;
//!   an error if there is none.
//! - `auto`: a hardware GPU adapter if there is one, else the CPU backend. A software adapter is
//!   never chosen by `auto`: it runs on the same CPU, far slower than the CPU backend (README,
//!   "Speed"). Naming an adapter with `--adapter` asks for that adapter, software or not.

use crate::backend::cpu::Cpu;
use crate::backend::gpu::{DeviceError, Gpu, GpuOptions};

/// Which engines a command may run on (the `--backend` flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnginePolicy {
    /// A hardware GPU adapter if there is one, else the CPU backend.
    Auto,
    /// A GPU adapter, software ones included; an error if there is none.
    Gpu,
    /// The CPU backend.
    Cpu,
}

/// The engine chosen for a run.
pub enum Engine {
    /// The CPU backend.
    Cpu(Cpu),
    /// A wgpu device.
    Gpu(Box<Gpu>),
}

/// The engine and, in words, why it was chosen (printed at the start of a run).
pub struct Choice {
    /// The engine.
    pub engine: Engine,
    /// Why, e.g. "--backend auto found no hardware GPU adapter (found only software adapters …)".
    pub reason: String,
}

/// Applies the `--backend` / `--adapter` policy.
pub fn choose(policy: EnginePolicy, adapter: Option<&str>) -> Result<Choice, DeviceError> {
    let named = adapter.map(str::to_string);
    match policy {
        EnginePolicy::Cpu => {
            Ok(Choice { engine: Engine::Cpu(Cpu::new()), reason: "--backend cpu".into() })
        }
        EnginePolicy::Gpu => {
            let gpu = Gpu::new(&GpuOptions { adapter: named, allow_software: true })?;
            Ok(Choice { engine: Engine::Gpu(Box::new(gpu)), reason: "--backend gpu".into() })
        }
        EnginePolicy::Auto if named.is_some() => {
            let gpu = Gpu::new(&GpuOptions { adapter: named, allow_software: true })?;
            Ok(Choice { engine: Engine::Gpu(Box::new(gpu)), reason: "--adapter names it".into() })
        }
        EnginePolicy::Auto => {
            match Gpu::new(&GpuOptions { adapter: None, allow_software: false }) {
                Ok(gpu) => Ok(Choice {
                    engine: Engine::Gpu(Box::new(gpu)),
                    reason: "--backend auto: a hardware GPU adapter".into(),
                }),
                Err(why) => Ok(Choice {
                    engine: Engine::Cpu(Cpu::new()),
                    reason: format!("--backend auto: no hardware GPU adapter ({why})"),
                }),
            }
        }
    }
}

/// Runs `$body` with `$be` bound to a reference to the chosen backend (`&Cpu` or `&Gpu`).
#[macro_export]
macro_rules! with_engine {
    ($engine:expr, |$be:ident| $body:expr) => {
        match &$engine {
            $crate::device::Engine::Cpu(cpu) => {
                let $be: &$crate::backend::cpu::Cpu = cpu;
                $body
            }
            $crate::device::Engine::Gpu(gpu) => {
                let $be: &$crate::backend::gpu::Gpu = gpu;
                $body
            }
        }
    };
}
