// The activations of `backend::Activation` by their codes (the Rust enum's discriminants,
// checked against these constants by tests/shaders.rs); needs math.wgsl (sigmoid).

// f(y) = y
const ACT_IDENTITY: u32 = 0u;
// f(y) = σ(y)
const ACT_SIGMOID: u32 = 1u;
// f(y) = max(0, y)
const ACT_RELU: u32 = 2u;

// f(y) for the activation of code `act`.
fn act_apply(act: u32, y: f32) -> f32 {
    if act == ACT_SIGMOID {
        return sigmoid(y);
    }
    if act == ACT_RELU {
        return max(y, 0.0);
    }
    return y;
}

// f′ from the activation's output o (`Activation::grad_from_output`): 1, o(1 − o), or 1 where
// o > 0 and 0 elsewhere.
fn act_grad(act: u32, o: f32) -> f32 {
    if act == ACT_SIGMOID {
        return o * (1.0 - o);
    }
    if act == ACT_RELU {
        return select(0.0, 1.0, o > 0.0);
    }
    return 1.0;
}
