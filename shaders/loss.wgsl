// xent_logits: cross-entropy from logits with its gradient, fused; needs math.wgsl and
// sums.wgsl. Twin of `Cpu::xent_logits`. With a = logits, x = target, both [rows, cols], z = σ(a):
//   grad = (z − x) · scale;
//   costs[slot] = scale · Σ [softplus(a) − x·a]   (= −Σ[x log z + (1 − x) log(1 − z)]).
// Deterministic fixed-order reduction, no float atomics: workgroup g owns the elements
// g·per_thread·256 + j·256 + lane (j < per_thread); each lane sums its elements in order, then a
// fixed tree sums the 256 lanes. With one workgroup it writes costs[slot] itself; otherwise it
// writes partials[g] and `xent_finish` (one workgroup) reduces the partials the same way.

struct Params {
    // Elements: rows · cols.
    len: u32,
    // Elements per lane of a workgroup.
    per_thread: u32,
    // Workgroups of the first pass; 1 means it writes costs[slot] directly.
    groups: u32,
    slot: u32,
    scale: f32,
    // sq_err: the decoder's output activation, OUT_IDENTITY, OUT_SIGMOID or OUT_RELU.
    out_act: u32,
}

const OUT_IDENTITY: u32 = 0u;
const OUT_SIGMOID: u32 = 1u;
const OUT_RELU: u32 = 2u;

// The activation's derivative from its output y (`Activation::grad_from_output`): 1, y(1 − y),
// or 1 where y > 0 and 0 elsewhere.
fn out_grad(y: f32) -> f32 {
    if p.out_act == OUT_SIGMOID {
        return y * (1.0 - y);
    }
    if p.out_act == OUT_RELU {
        return select(0.0, 1.0, y > 0.0);
    }
    return 1.0;
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> grad: array<f32>;      // [rows, cols]
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;  // [groups]
@group(0) @binding(3) var<storage, read_write> costs: array<f32>;     // [≥ slot + 1]
@group(0) @binding(4) var<storage, read> logits: array<f32>;          // [rows, cols]
@group(0) @binding(5) var<storage, read> targets: array<f32>;         // [rows, cols]


// Adds the 256 lanes' sums of workgroup `group` in the fixed tree: lane 0 writes
// costs[slot] = scale·total when the loss is one workgroup, else partials[group] for
// `xent_finish`. Call in uniform control flow.
fn finish_group(lane: u32, group: u32, sum: f32) {
    tree[lane] = sum;
    tree_sum(lane);
    if lane == 0u {
        if p.groups == 1u {
            costs[p.slot] = p.scale * tree[0];
        } else {
            partials[group] = tree[0];
        }
    }
}

@compute @workgroup_size(256)
fn xent_logits(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let base = wid.x * p.per_thread * 256u;
    var sum = 0.0;
    for (var j = 0u; j < p.per_thread; j++) {
        let i = base + j * 256u + lane;
        if i < p.len {
            let a = logits[i];
            let x = targets[i];
            let zs = sigmoid_softplus(a);
            grad[i] = (zs.x - x) * p.scale;
            sum += zs.y - x * a;
        }
    }
    finish_group(lane, wid.x, sum);
}

@compute @workgroup_size(256)
fn xent_finish(@builtin(local_invocation_index) lane: u32) {
    var sum = 0.0;
    for (var g = lane; g < p.groups; g += 256u) {
        sum += partials[g];
    }
    tree[lane] = sum;
    tree_sum(lane);
    if lane == 0u {
        costs[p.slot] = p.scale * tree[0];
    }
}

// sq_err: squared error with its gradient, fused; twin of `Cpu::sq_err`. With y = logits
// (the decoder's output after its activation p.out_act) and x = target, both [rows, cols]:
//   grad = (y − x) · scale · out′(y)    (∂/∂ of the pre-activation of ½ · the cost below);
//   costs[slot] = scale · Σ (y − x)²    (E = ‖y − x‖² per row, times scale).
// The same fixed-order reduction as xent_logits; `xent_finish` adds the partials.
@compute @workgroup_size(256)
fn sq_err(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let base = wid.x * p.per_thread * 256u;
    var sum = 0.0;
    for (var j = 0u; j < p.per_thread; j++) {
        let i = base + j * 256u + lane;
        if i < p.len {
            let d = logits[i] - targets[i];
            grad[i] = d * p.scale * out_grad(logits[i]);
            sum += d * d;
        }
    }
    finish_group(lane, wid.x, sum);
}

// count_positive: costs[slot] = scale · #{i < len : logits[i] > 0}; twin of
// `Cpu::count_positive` (the ReLU-DAE's sparsity, the fraction of units on). One workgroup:
// lane l counts elements l, l + 256, … as u32, the 256 counts are summed exactly as f32
// (exact below 2²⁴) by the fixed tree; grad, partials and targets are not used.
@compute @workgroup_size(256)
fn count_positive(@builtin(local_invocation_index) lane: u32) {
    var n = 0u;
    for (var i = lane; i < p.len; i += 256u) {
        n += select(0u, 1u, logits[i] > 0.0);
    }
    tree[lane] = f32(n);
    tree_sum(lane);
    if lane == 0u {
        costs[p.slot] = p.scale * tree[0];
    }
}
