//! `gemm` (shaders/matmul.wgsl + shaders/math.wgsl): register-tiled GEMM with the trait's
//! epilogues.

use super::{Gpu, GpuTensor, u32_of};
use crate::backend::gpu::kernels::{GemmEpilogue, Kernel};
use crate::backend::{Activation, Epilogue, GemmSpec};

/// The output tile of one workgroup: 64 × 64.
const TILE: usize = 64;

impl Gpu {
    /// C = epilogue(α·op(A)·op(B) + β·C); one dispatch of ⌈n/64⌉ × ⌈m/64⌉ workgroups.
    pub(super) fn record_gemm(
        &self,
        c: &mut GpuTensor,
        a: &GpuTensor,
        b: &GpuTensor,
        s: GemmSpec,
        epilogue: Epilogue<'_, GpuTensor>,
    ) {
        let GemmSpec { m, n, k, .. } = s;
        assert!(
            a.len >= m * k && b.len >= k * n && c.len >= m * n,
            "gemm {m}×{n}×{k}: a holds {}, b {}, c {}",
            a.len,
            b.len,
            c.len
        );
        if m == 0 || n == 0 {
            return;
        }
        for (v, what) in [(m * k, "gemm A"), (k * n, "gemm B"), (m * n, "gemm C")] {
            u32_of(v, what);
        }
        let (kind, extra) = match epilogue {
            Epilogue::None => (GemmEpilogue::None, None),
            Epilogue::BiasAct { bias, act } => {
                assert!(bias.len >= n, "gemm bias holds {}, n = {n}", bias.len);
                let kind = match act {
                    Activation::Identity => GemmEpilogue::BiasIdentity,
                    Activation::Sigmoid => GemmEpilogue::BiasSigmoid,
                };
                (kind, Some(bias))
            }
            // The identity's derivative is 1: nothing to apply.
            Epilogue::ActGrad { act: Activation::Identity, .. } => (GemmEpilogue::None, None),
            Epilogue::ActGrad { out, act: Activation::Sigmoid } => {
                assert!(out.len >= m * n, "gemm ActGrad out holds {}, [{m}, {n}] needed", out.len);
                (GemmEpilogue::SigmoidGrad, Some(out))
            }
        };
        // vec4 loads need the stored matrix's contiguous dimension to be a multiple of 4.
        let kernel = Kernel::Gemm {
            trans_a: s.trans_a,
            trans_b: s.trans_b,
            vec_a: if s.trans_a { m % 4 == 0 } else { k % 4 == 0 },
            vec_b: if s.trans_b { k % 4 == 0 } else { n % 4 == 0 },
            epilogue: kind,
        };
        let params = [m as u32, n as u32, k as u32, s.alpha.to_bits(), s.beta.to_bits()];
        let groups = [n.div_ceil(TILE) as u32, u32_of(m.div_ceil(TILE), "gemm row tiles"), 1];
        let e = extra.map_or(&self.dummy, |t| &t.buf);
        let mut st = self.lock();
        self.dispatch(&mut st, kernel, &[&a.buf, &b.buf, &c.buf, e], &params, groups);
    }
}
