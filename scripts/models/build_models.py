#!/usr/bin/python3
"""Writes the ONNX graphs behind configs/models/ from the published architectures.

Each graph is the model's forward pass as exporters emit it (torch.onnx at the opset named), with
every weight declared as a graph input, so the files hold structure and shapes only (kilobytes).
Run with Debian's python3-onnx:

    /usr/bin/python3 scripts/models/build_models.py OUTDIR

then `rctune extract` each file (scripts/models/extract_all.sh does both).
"""
import math
import os
import sys

import onnx
from onnx import TensorProto, helper


class Graph:
    """A graph under construction: weights become graph inputs, scalars become initializers."""

    def __init__(self, name, opset):
        self.name, self.opset = name, opset
        self.nodes, self.inputs, self.inits, self.outputs = [], [], [], []
        self.count = {}

    def fresh(self, base):
        self.count[base] = self.count.get(base, 0) + 1
        return f"{base}_{self.count[base]}"

    def input(self, name, shape, dtype=TensorProto.FLOAT):
        self.inputs.append(helper.make_tensor_value_info(name, dtype, shape))
        return name

    def weight(self, name, shape):
        return self.input(name, shape)

    def scalar(self, value, dtype=TensorProto.FLOAT):
        name = self.fresh("const")
        self.inits.append(helper.make_tensor(name, dtype, [], [value]))
        return name

    def ints(self, values):
        name = self.fresh("shape")
        self.inits.append(helper.make_tensor(name, TensorProto.INT64, [len(values)], values))
        return name

    def op(self, op_type, inputs, name=None, **attrs):
        name = name or self.fresh(op_type)
        out = name + "_out"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out

    def output(self, value, shape):
        self.outputs.append(helper.make_tensor_value_info(value, TensorProto.FLOAT, shape))

    def save(self, path):
        graph = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="rctune scripts/models/build_models.py")
        onnx.checker.check_model(model)
        onnx.save(model, path)


# ---- building blocks, as torch.onnx exports them ----

def linear(g, x, n_in, n_out, name, bias=True):
    """nn.Linear on a [..., n_in] activation: MatMul with the weight as [K,N], then Add bias."""
    w = g.weight(name + ".weight", [n_in, n_out])
    y = g.op("MatMul", [x, w], name=name)
    if bias:
        y = g.op("Add", [y, g.weight(name + ".bias", [n_out])], name=name + ".add_bias")
    return y


def conv_bn(g, x, c_in, c_out, k, stride, pad, name, group=1):
    """Conv + BatchNorm in eval mode: the exporter folds the BatchNorm into the conv's weight and bias."""
    w = g.weight(name + ".weight", [c_out, c_in // group, k, k])
    b = g.weight(name + ".bias", [c_out])
    return g.op("Conv", [x, w, b], name=name, strides=[stride, stride], pads=[pad] * 4,
                kernel_shape=[k, k], group=group)


def relu6(g, x):
    return g.op("Clip", [x, g.scalar(0.0), g.scalar(6.0)])


def gelu_erf(g, x):
    """nn.GELU() below opset 20: x * 0.5 * (1 + erf(x / sqrt(2)))."""
    e = g.op("Erf", [g.op("Div", [x, g.scalar(math.sqrt(2.0))])])
    return g.op("Mul", [g.op("Mul", [x, g.op("Add", [e, g.scalar(1.0)])]), g.scalar(0.5)])


def layernorm_decomposed(g, x, n, eps, name):
    """nn.LayerNorm below opset 17."""
    mean = g.op("ReduceMean", [x], name=name + ".mean", axes=[-1])
    d = g.op("Sub", [x, mean])
    var = g.op("ReduceMean", [g.op("Pow", [d, g.scalar(2.0)])], axes=[-1])
    y = g.op("Div", [d, g.op("Sqrt", [g.op("Add", [var, g.scalar(eps)])])])
    y = g.op("Mul", [y, g.weight(name + ".weight", [n])])
    return g.op("Add", [y, g.weight(name + ".bias", [n])])


def rmsnorm_decomposed(g, x, n, eps, name):
    """LlamaRMSNorm: x * rsqrt(mean(x^2) + eps) * weight; rsqrt exports as Sqrt then Reciprocal."""
    ms = g.op("ReduceMean", [g.op("Pow", [x, g.scalar(2.0)], name=name + ".pow")], axes=[-1])
    inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [ms, g.scalar(eps)])])])
    return g.op("Mul", [g.op("Mul", [x, inv]), g.weight(name + ".weight", [n])])


# ---- ResNet-50 (torchvision resnet50, v1.5: the stride on the 3x3 conv) ----

def resnet50(path):
    g = Graph("resnet50", 17)
    x = g.input("input", ["batch", 3, 224, 224])
    x = g.op("Relu", [conv_bn(g, x, 3, 64, 7, 2, 3, "conv1")])
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    c_in = 64
    for stage, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)], 1):
        for b in range(blocks):
            name = f"layer{stage}.{b}"
            s = stride if b == 0 else 1
            y = g.op("Relu", [conv_bn(g, x, c_in, width, 1, 1, 0, name + ".conv1")])
            y = g.op("Relu", [conv_bn(g, y, width, width, 3, s, 1, name + ".conv2")])
            y = conv_bn(g, y, width, width * 4, 1, 1, 0, name + ".conv3")
            identity = x
            if b == 0:
                identity = conv_bn(g, x, c_in, width * 4, 1, s, 0, name + ".downsample")
            x = g.op("Relu", [g.op("Add", [y, identity])])
            c_in = width * 4
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])])
    x = g.op("Gemm", [x, g.weight("fc.weight", [1000, 2048]), g.weight("fc.bias", [1000])], name="fc", transB=1)
    g.output(x, ["batch", 1000])
    g.save(path)


# ---- MobileNetV2 (torchvision mobilenet_v2, width 1.0) ----

def mobilenet_v2(path):
    g = Graph("mobilenet_v2", 17)
    x = g.input("input", ["batch", 3, 224, 224])
    x = relu6(g, conv_bn(g, x, 3, 32, 3, 2, 1, "features.0"))
    c_in, idx = 32, 1
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = c_in * t
            name = f"features.{idx}"
            y = x
            if t != 1:
                y = relu6(g, conv_bn(g, y, c_in, hidden, 1, 1, 0, name + ".expand"))
            y = relu6(g, conv_bn(g, y, hidden, hidden, 3, stride, 1, name + ".depthwise", group=hidden))
            y = conv_bn(g, y, hidden, c, 1, 1, 0, name + ".project")
            if stride == 1 and c_in == c:
                y = g.op("Add", [x, y])
            x, c_in, idx = y, c, idx + 1
    x = relu6(g, conv_bn(g, x, 320, 1280, 1, 1, 0, "features.18"))
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])])
    x = g.op("Gemm", [x, g.weight("classifier.weight", [1000, 1280]), g.weight("classifier.bias", [1000])],
             name="classifier", transB=1)
    g.output(x, ["batch", 1000])
    g.save(path)


# ---- BERT-base (bert-base-uncased: 12 layers, hidden 768, 12 heads, FFN 3072) at opset 14 ----

def bert_base(path):
    hidden, heads, ffn, layers, eps = 768, 12, 3072, 12, 1e-12
    dh = hidden // heads
    g = Graph("bert_base", 14)
    emb = g.input("embeddings", ["batch", "sequence", hidden])  # word + position + type embeddings, summed
    mask = g.input("attention_mask_bias", ["batch", 1, 1, "sequence"])
    x = layernorm_decomposed(g, emb, hidden, eps, "embeddings.LayerNorm")
    heads_shape = g.ints([0, 0, heads, dh])
    merge_shape = g.ints([0, 0, hidden])
    for i in range(layers):
        p = f"encoder.layer.{i}"

        def split(t):
            return g.op("Transpose", [g.op("Reshape", [t, heads_shape])], perm=[0, 2, 1, 3])

        q = split(linear(g, x, hidden, hidden, p + ".attention.self.query"))
        k = split(linear(g, x, hidden, hidden, p + ".attention.self.key"))
        v = split(linear(g, x, hidden, hidden, p + ".attention.self.value"))
        kt = g.op("Transpose", [k], perm=[0, 1, 3, 2])
        scores = g.op("MatMul", [q, kt], name=p + ".attention.scores")
        scores = g.op("Add", [g.op("Div", [scores, g.scalar(math.sqrt(dh))]), mask])
        probs = g.op("Softmax", [scores], name=p + ".attention.softmax", axis=-1)
        ctx = g.op("MatMul", [probs, v], name=p + ".attention.context")
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        y = linear(g, ctx, hidden, hidden, p + ".attention.output.dense")
        x = layernorm_decomposed(g, g.op("Add", [y, x]), hidden, eps, p + ".attention.output.LayerNorm")
        y = gelu_erf(g, linear(g, x, hidden, ffn, p + ".intermediate.dense"))
        y = linear(g, y, ffn, hidden, p + ".output.dense")
        x = layernorm_decomposed(g, g.op("Add", [y, x]), hidden, eps, p + ".output.LayerNorm")
    g.output(x, ["batch", "sequence", hidden])
    g.save(path)


# ---- Llama-3-8B: one decoder layer (hidden 4096, 32 heads, 8 KV heads, head 128, FFN 14336) ----

def llama3_layer(path, decode):
    hidden, heads, kv_heads, dh, ffn, eps = 4096, 32, 8, 128, 14336, 1e-5
    group = heads // kv_heads
    g = Graph("llama3_8b_layer_" + ("decode" if decode else "prefill"), 17)
    x = g.input("hidden_states", ["batch", "sequence", hidden])
    ctx_len = "context" if decode else "sequence"
    cos = g.input("rope_cos", ["sequence", dh])
    sin = g.input("rope_sin", ["sequence", dh])
    mask = g.input("attention_mask_bias", ["batch", 1, "sequence", ctx_len])
    p = "model.layers.0"
    h = rmsnorm_decomposed(g, x, hidden, eps, p + ".input_layernorm")

    def heads_of(t, n):
        return g.op("Transpose", [g.op("Reshape", [t, g.ints([0, 0, n, dh])])], perm=[0, 2, 1, 3])

    def rope(t):
        """q * cos + rotate_half(q) * sin, rotate_half = cat(-x2, x1)."""
        half = dh // 2
        x1 = g.op("Slice", [t, g.ints([0]), g.ints([half]), g.ints([-1])])
        x2 = g.op("Slice", [t, g.ints([half]), g.ints([dh]), g.ints([-1])])
        rot = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
        return g.op("Add", [g.op("Mul", [t, cos]), g.op("Mul", [rot, sin])])

    q = rope(heads_of(linear(g, h, hidden, heads * dh, p + ".self_attn.q_proj", bias=False), heads))
    k = rope(heads_of(linear(g, h, hidden, kv_heads * dh, p + ".self_attn.k_proj", bias=False), kv_heads))
    v = heads_of(linear(g, h, hidden, kv_heads * dh, p + ".self_attn.v_proj", bias=False), kv_heads)
    if decode:  # the KV cache holds the earlier tokens
        k = g.op("Concat", [g.input("past_key", ["batch", kv_heads, "past", dh]), k], axis=2)
        v = g.op("Concat", [g.input("past_value", ["batch", kv_heads, "past", dh]), v], axis=2)

    def repeat_kv(t):
        """[b, kv, s, d] -> [b, kv * group, s, d] (Unsqueeze, Expand, Reshape)."""
        t = g.op("Unsqueeze", [t, g.ints([2])])
        t = g.op("Expand", [t, g.ints([1, 1, group, 1, 1])])
        return g.op("Reshape", [t, g.ints([0, heads, -1, dh])])

    k, v = repeat_kv(k), repeat_kv(v)
    scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])], name=p + ".self_attn.scores")
    scores = g.op("Add", [g.op("Div", [scores, g.scalar(math.sqrt(dh))]), mask])
    probs = g.op("Softmax", [scores], name=p + ".self_attn.softmax", axis=-1)
    attn = g.op("MatMul", [probs, v], name=p + ".self_attn.context")
    attn = g.op("Reshape", [g.op("Transpose", [attn], perm=[0, 2, 1, 3]), g.ints([0, 0, hidden])])
    attn = linear(g, attn, heads * dh, hidden, p + ".self_attn.o_proj", bias=False)
    x = g.op("Add", [attn, x])
    h = rmsnorm_decomposed(g, x, hidden, eps, p + ".post_attention_layernorm")
    gate = linear(g, h, hidden, ffn, p + ".mlp.gate_proj", bias=False)
    up = linear(g, h, hidden, ffn, p + ".mlp.up_proj", bias=False)
    act = g.op("Mul", [gate, g.op("Sigmoid", [gate])])  # SiLU
    down = linear(g, g.op("Mul", [act, up]), ffn, hidden, p + ".mlp.down_proj", bias=False)
    g.output(g.op("Add", [down, x]), ["batch", "sequence", hidden])
    g.save(path)


# ---- Mixtral-8x7B: one expert's SwiGLU FFN (hidden 4096, FFN 14336) on the tokens routed to it ----

def mixtral_expert(path):
    hidden, ffn = 4096, 14336
    g = Graph("mixtral_8x7b_expert", 17)
    x = g.input("routed_tokens", ["tokens", hidden])
    p = "model.layers.0.block_sparse_moe.experts.0"
    w1 = linear(g, x, hidden, ffn, p + ".w1", bias=False)
    w3 = linear(g, x, hidden, ffn, p + ".w3", bias=False)
    act = g.op("Mul", [w1, g.op("Sigmoid", [w1])])
    y = linear(g, g.op("Mul", [act, w3]), ffn, hidden, p + ".w2", bias=False)
    g.output(y, ["tokens", hidden])
    g.save(path)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "models"
    os.makedirs(out, exist_ok=True)
    resnet50(os.path.join(out, "resnet50.onnx"))
    mobilenet_v2(os.path.join(out, "mobilenet_v2.onnx"))
    bert_base(os.path.join(out, "bert_base.onnx"))
    llama3_layer(os.path.join(out, "llama3_8b_layer_prefill.onnx"), decode=False)
    llama3_layer(os.path.join(out, "llama3_8b_layer_decode.onnx"), decode=True)
    mixtral_expert(os.path.join(out, "mixtral_8x7b_expert.onnx"))


if __name__ == "__main__":
    main()
