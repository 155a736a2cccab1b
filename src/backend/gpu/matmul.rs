//! `gemm` and `gemm_sum` (shaders/matmul.wgsl + shaders/math.wgsl): register-tiled GEMM with the
//! trait's epilogues, or summing two products in one K loop.

use super::{Gpu, GpuTensor, u32_of};
use crate::backend::gpu::kernels::{GemmEpilogue, Kernel};
use crate::backend::{Activation, Epilogue, GemmSpec};

/// The output tile of one workgroup: 64 × 64.
const TILE: usize = 64;

/// Whether a matrix of `spec`'s pair with inner dimension `k` can be read as vec4 words: its
/// stored contiguous dimension is a multiple of 4 (A: k, or m when transposed; B: n, or k when
/// transposed).
fn vec4_ok(s: &GemmSpec, k: usize) -> (bool, bool) {
    let a = if s.trans_a { s.m } else { k }.is_multiple_of(4);
    let b = if s.trans_b { k } else { s.n }.is_multiple_of(4);
    (a, b)
}

impl Gpu {
    /// C = epilogue(α·op(A)·op(B) + β·C), or with `second = (A₂, B₂, k2)`
    /// C = α·(op(A)·op(B) + op(A₂)·op(B₂)) + β·C (the epilogue is then `None`); one dispatch of
    /// ⌈n/64⌉ × ⌈m/64⌉ workgroups either way.
    pub(super) fn record_gemm(
        &self,
        c: &mut GpuTensor,
        (a, b): (&GpuTensor, &GpuTensor),
        second: Option<(&GpuTensor, &GpuTensor, usize)>,
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
        let k2 = second.map_or(0, |(_, _, k2)| k2);
        if let Some((a2, b2, _)) = second {
            assert!(
                a2.len >= m * k2 && b2.len >= k2 * n,
                "gemm_sum second pair {m}×{n}×{k2}: a₂ holds {}, b₂ {}",
                a2.len,
                b2.len
            );
            assert!(matches!(epilogue, Epilogue::None), "gemm_sum takes no epilogue");
        }
        if m == 0 || n == 0 {
            return;
        }
        for (v, what) in [(m * k, "gemm A"), (k * n, "gemm B"), (m * n, "gemm C")] {
            u32_of(v, what);
        }
        for (v, what) in [(m * k2, "gemm A₂"), (k2 * n, "gemm B₂")] {
            u32_of(v, what);
        }
        let (kind, extra) = match epilogue {
            Epilogue::None => (GemmEpilogue::None, None),
            Epilogue::BiasAct { bias, act } => {
                assert!(bias.len >= n, "gemm bias holds {}, n = {n}", bias.len);
                let kind = match act {
                    Activation::Identity => GemmEpilogue::BiasIdentity,
                    Activation::Sigmoid => GemmEpilogue::BiasSigmoid,
                    Activation::Relu => GemmEpilogue::BiasRelu,
                };
                (kind, Some(bias))
            }
            // The identity's derivative is 1: nothing to apply.
            Epilogue::ActGrad { act: Activation::Identity, .. } => (GemmEpilogue::None, None),
            Epilogue::ActGrad { out, act } => {
                assert!(out.len >= m * n, "gemm ActGrad out holds {}, [{m}, {n}] needed", out.len);
                let kind = match act {
                    Activation::Relu => GemmEpilogue::ReluGrad,
                    _ => GemmEpilogue::SigmoidGrad,
                };
                (kind, Some(out))
            }
        };
        // vec4 loads need the stored matrix's contiguous dimension to be a multiple of 4, for
        // both pairs (they share the loaders).
        let (mut vec_a, mut vec_b) = vec4_ok(&s, k);
        if second.is_some() {
            let (va2, vb2) = vec4_ok(&s, k2);
            vec_a &= va2;
            vec_b &= vb2;
        }
        let kernel = Kernel::Gemm {
            trans_a: s.trans_a,
            trans_b: s.trans_b,
            vec_a,
            vec_b,
            epilogue: kind,
            sum: second.is_some(),
        };
        let params = [m as u32, n as u32, k as u32, s.alpha.to_bits(), s.beta.to_bits(), k2 as u32];
        let groups = [n.div_ceil(TILE) as u32, u32_of(m.div_ceil(TILE), "gemm row tiles"), 1];
        let e = extra.map_or(&self.dummy, |t| &t.buf);
        let (a2, b2) = second.map_or((&self.dummy, &self.dummy), |(a2, b2, _)| (&a2.buf, &b2.buf));
        let mut st = self.lock();
        self.dispatch(&mut st, kernel, &[&a.buf, &b.buf, &c.buf, e, a2, b2], &params, groups);
    }
}
