"""The Deep Learning Tutorials' SdA.py (test_SdA), ported from Theano to PyTensor.

The reference gpu-dae's `--model sda` is compared with (README, "Stacked denoising autoencoder"):
the same model, initialisation (numpy RandomState(89677)), masking corruption, dA cost, NLL,
fixed minibatch order, early-stopping rule and printed summary as SdA.py. What differs:
- PyTensor 3 instead of Theano, so the corruption masks come from PyTensor's RandomStream;
- the data is mnist.pkl.gz rebuilt from the four IDX files: train = the first 50 000 training
  images, valid = the last 10 000, test = t10k, pixels / 256 as in mnist.pkl.gz (gpu-dae: / 255);
- validation and test are one call over the whole set instead of one per minibatch (the same
  mean at batch 1).

Usage (pip install numpy pytensor; about 39 min of pretraining and 83 s per fine-tuning epoch on
one core of the development machine):
    OMP_NUM_THREADS=1 python sda_tutorial.py MNIST_DIR [--seed 89677] [--pixel-scale 256]
"""
import argparse
import gzip
import sys
import timeit

import numpy
import pytensor
import pytensor.tensor as T
from pytensor.tensor.random.utils import RandomStream

floatX = "float32"
pytensor.config.floatX = floatX


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return numpy.frombuffer(data, dtype=numpy.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_data(directory, scale, limit):
    tr_x = read_idx(f"{directory}/train-images-idx3-ubyte.gz").reshape(60000, 784)
    tr_y = read_idx(f"{directory}/train-labels-idx1-ubyte.gz")
    te_x = read_idx(f"{directory}/t10k-images-idx3-ubyte.gz").reshape(10000, 784)
    te_y = read_idx(f"{directory}/t10k-labels-idx1-ubyte.gz")
    x = (tr_x.astype(numpy.float64) / scale).astype(floatX)
    tx = (te_x.astype(numpy.float64) / scale).astype(floatX)
    sets = [(x[:50000], tr_y[:50000]), (x[50000:], tr_y[50000:]), (tx, te_y)]
    if limit:
        sets = [(a[:limit], b[:limit]) for a, b in sets]

    def shared_dataset(xy):
        sx = pytensor.shared(numpy.asarray(xy[0], dtype=floatX), borrow=True)
        sy = pytensor.shared(numpy.asarray(xy[1], dtype=floatX), borrow=True)
        return sx, T.cast(sy, "int32")

    return [shared_dataset(s) for s in sets]


class LogisticRegression:
    def __init__(self, input, n_in, n_out):
        self.W = pytensor.shared(numpy.zeros((n_in, n_out), dtype=floatX), name="W", borrow=True)
        self.b = pytensor.shared(numpy.zeros((n_out,), dtype=floatX), name="b", borrow=True)
        self.p_y_given_x = T.special.softmax(T.dot(input, self.W) + self.b, axis=-1)
        self.y_pred = T.argmax(self.p_y_given_x, axis=1)
        self.params = [self.W, self.b]

    def negative_log_likelihood(self, y):
        return -T.mean(T.log(self.p_y_given_x)[T.arange(y.shape[0]), y])

    def errors(self, y):
        return T.mean(T.neq(self.y_pred, y))


class HiddenLayer:
    def __init__(self, rng, input, n_in, n_out):
        bound = numpy.sqrt(6.0 / (n_in + n_out))
        W_values = numpy.asarray(rng.uniform(low=-bound, high=bound, size=(n_in, n_out)), dtype=floatX)
        W_values *= 4  # sigmoid activation
        self.W = pytensor.shared(value=W_values, name="W", borrow=True)
        self.b = pytensor.shared(value=numpy.zeros((n_out,), dtype=floatX), name="b", borrow=True)
        self.output = T.sigmoid(T.dot(input, self.W) + self.b)
        self.params = [self.W, self.b]


class dA:
    def __init__(self, theano_rng, input, n_visible, n_hidden, W, bhid):
        self.b_prime = pytensor.shared(value=numpy.zeros(n_visible, dtype=floatX), borrow=True)
        self.W, self.b, self.W_prime = W, bhid, W.T
        self.theano_rng = theano_rng
        self.x = input
        self.params = [self.W, self.b, self.b_prime]

    def get_cost_updates(self, corruption_level, learning_rate):
        tilde_x = T.cast(self.theano_rng.binomial(size=self.x.shape, n=1, p=1 - corruption_level), floatX) * self.x
        y = T.sigmoid(T.dot(tilde_x, self.W) + self.b)
        z = T.sigmoid(T.dot(y, self.W_prime) + self.b_prime)
        L = -T.sum(self.x * T.log(z) + (1 - self.x) * T.log(1 - z), axis=1)
        cost = T.mean(L)
        gparams = T.grad(cost, self.params)
        updates = [(p, p - learning_rate * g) for p, g in zip(self.params, gparams)]
        return cost, updates


class SdA:
    def __init__(self, numpy_rng, n_ins, hidden_layers_sizes, n_outs):
        self.sigmoid_layers, self.dA_layers, self.params = [], [], []
        theano_rng = RandomStream(numpy_rng.randint(2 ** 30))
        self.x = T.matrix("x")
        self.y = T.ivector("y")
        for i, size in enumerate(hidden_layers_sizes):
            input_size = n_ins if i == 0 else hidden_layers_sizes[i - 1]
            layer_input = self.x if i == 0 else self.sigmoid_layers[-1].output
            layer = HiddenLayer(numpy_rng, layer_input, input_size, size)
            self.sigmoid_layers.append(layer)
            self.params.extend(layer.params)
            self.dA_layers.append(dA(theano_rng, layer_input, input_size, size, layer.W, layer.b))
        self.logLayer = LogisticRegression(self.sigmoid_layers[-1].output, hidden_layers_sizes[-1], n_outs)
        self.params.extend(self.logLayer.params)
        self.finetune_cost = self.logLayer.negative_log_likelihood(self.y)
        self.errors = self.logLayer.errors(self.y)

    def pretraining_functions(self, train_set_x, batch_size):
        index = T.lscalar("index")
        corruption_level = T.scalar("corruption")
        learning_rate = T.scalar("lr")
        begin = index * batch_size
        fns = []
        for da in self.dA_layers:
            cost, updates = da.get_cost_updates(corruption_level, learning_rate)
            fns.append(pytensor.function(
                inputs=[index, corruption_level, learning_rate],
                outputs=cost, updates=updates,
                givens={self.x: train_set_x[begin:begin + batch_size]}))
        return fns

    def build_finetune_functions(self, datasets, batch_size, learning_rate):
        (train_set_x, train_set_y), (valid_set_x, valid_set_y), (test_set_x, test_set_y) = datasets
        index = T.lscalar("index")
        gparams = T.grad(self.finetune_cost, self.params)
        updates = [(p, p - g * learning_rate) for p, g in zip(self.params, gparams)]
        s = slice(index * batch_size, (index + 1) * batch_size)
        train_fn = pytensor.function([index], self.finetune_cost, updates=updates,
                                     givens={self.x: train_set_x[s], self.y: train_set_y[s]})
        # SdA.py evaluates valid and test one minibatch per call and averages; one call over the
        # whole set gives the same mean when the batch divides the set (batch 1 here), faster.
        valid_fn = pytensor.function([], self.errors, givens={self.x: valid_set_x, self.y: valid_set_y})
        test_fn = pytensor.function([], self.errors, givens={self.x: test_set_x, self.y: test_set_y})
        return train_fn, valid_fn, test_fn


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mnist_dir")
    ap.add_argument("--seed", type=int, default=89677)
    ap.add_argument("--pixel-scale", type=float, default=256.0)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--pretraining-epochs", type=int, default=15)
    args = ap.parse_args()
    finetune_lr, pretraining_epochs, pretrain_lr, training_epochs, batch_size = 0.1, args.pretraining_epochs, 0.001, 1000, 1
    datasets = load_data(args.mnist_dir, args.pixel_scale, args.limit)
    train_set_x, train_set_y = datasets[0]
    n_train_batches = train_set_x.get_value(borrow=True).shape[0] // batch_size
    numpy_rng = numpy.random.RandomState(args.seed)
    print("... building the model")
    sda = SdA(numpy_rng=numpy_rng, n_ins=28 * 28, hidden_layers_sizes=[1000, 1000, 1000], n_outs=10)
    pretraining_fns = sda.pretraining_functions(train_set_x=train_set_x, batch_size=batch_size)
    print("... pre-training the model")
    start_time = timeit.default_timer()
    corruption_levels = [0.1, 0.2, 0.3]
    for i in range(len(sda.sigmoid_layers)):
        for epoch in range(pretraining_epochs):
            c = [pretraining_fns[i](index=b, corruption=corruption_levels[i], lr=pretrain_lr) for b in range(n_train_batches)]
            print("Pre-training layer %i, epoch %d, cost %f" % (i, epoch, numpy.mean(c, dtype="float64")), flush=True)
    end_time = timeit.default_timer()
    pretrain_min = (end_time - start_time) / 60.0
    print("The pretraining code ran for %.2fm" % pretrain_min, flush=True)
    print("... getting the finetuning functions")
    train_fn, validate_model, test_model = sda.build_finetune_functions(datasets, batch_size, finetune_lr)
    print("... finetunning the model")
    patience = 10 * n_train_batches
    patience_increase = 2.0
    improvement_threshold = 0.995
    validation_frequency = min(n_train_batches, patience // 2)
    best_validation_loss = numpy.inf
    test_score = 0.0
    start_time = timeit.default_timer()
    done_looping = False
    epoch = 0
    while (epoch < training_epochs) and (not done_looping):
        epoch = epoch + 1
        for minibatch_index in range(n_train_batches):
            train_fn(minibatch_index)
            it = (epoch - 1) * n_train_batches + minibatch_index
            if (it + 1) % validation_frequency == 0:
                this_validation_loss = float(validate_model())
                print("epoch %i, minibatch %i/%i, validation error %f %%" % (epoch, minibatch_index + 1, n_train_batches, this_validation_loss * 100.0), flush=True)
                if this_validation_loss < best_validation_loss:
                    if this_validation_loss < best_validation_loss * improvement_threshold:
                        patience = max(patience, it * patience_increase)
                    best_validation_loss = this_validation_loss
                    best_iter = it
                    test_score = float(test_model())
                    print("     epoch %i, minibatch %i/%i, test error of best model %f %%" % (epoch, minibatch_index + 1, n_train_batches, test_score * 100.0), flush=True)
            if patience <= it:
                done_looping = True
                break
    end_time = timeit.default_timer()
    print("Optimization complete with best validation score of %f %%, on iteration %i, with test performance %f %%" % (best_validation_loss * 100.0, best_iter + 1, test_score * 100.0))
    print("The pretraining code ran for %.2fm" % pretrain_min)
    print("The training code for file SdA.py ran for %.2fm (%d epochs)" % ((end_time - start_time) / 60.0, epoch), flush=True)


if __name__ == "__main__":
    sys.exit(main())
