"""Known-wrong answers for every exercise: each must score below full marks.

VARIANTS[assignment][exercise][variant name] = the source of a wrong definition that replaces
the solution's. They are the mistakes students make (off-by-one, missing bias, wrong axis,
unscaled, unmasked, log-base mix-ups...), so the tests are shown to catch them.
"""

# Exercises that call another exercise's function (as the notebook tells students to):
# a wrong variant of the callee may also cost the caller its points.
DEPENDS = {"01_ngrams": {"make_windows": ["train_window_lm"], "WindowLM": ["train_window_lm"]},
           "03_rnn": {"rnn_step": ["rnn_forward"], "lm_batch": ["train_lm"], "RNNLanguageModel": ["train_lm"]},
           "04_bptt": {"delta_h_step": ["bptt"]},
           "05_clipping": {"clip_grad_norm": ["clipped_descent", "train_adding"]},
           "09_attention": {"masked_softmax": ["scaled_dot_product_attention", "multi_head_attention"],
                            "scaled_dot_product_attention": ["multi_head_attention"],
                            "split_heads": ["multi_head_attention"]}}

# 05's end-to-end exercise: one correct training loop with one piece changed. exploding_irnn is the notebook's given model.
_TRAIN05 = ("import numpy as np\nimport torch\nfrom course_lib import tasks\n"
            "def train_adding(steps, lr, threshold, T=100, seed=0, batch_size=20):\n"
            "    model = exploding_irnn(seed)\n    batches = tasks.adding_batches(batch_size, T, seed=seed + 1)\n"
            "    params = {params}\n    losses, norms = [], []\n    first = next(tasks.adding_batches(batch_size, T, seed=seed + 1))\n"
            "    for _ in range(steps):\n        {batch}\n        _, loss = model(x, y)\n        {clear}\n"
            "        loss.backward()\n        grads = [p.grad.numpy() for p in params]\n        {clip}\n"
            "        with torch.no_grad():\n            for p, g in zip(params, clipped):\n"
            "                p -= {lr} * torch.from_numpy(np.asarray(g, dtype=np.float32))\n"
            "        losses.append(loss.item())\n        norms.append({record})\n"
            "    return losses, norms, {{n: p.detach().numpy().copy() for n, p in model.named_parameters()}}\n")
_TRAIN05_OK = dict(params="list(model.parameters())", batch="x, y = next(batches)", clear="model.zero_grad()",
                   clip="clipped, total = clip_grad_norm(grads, threshold)", lr="lr", record="float(total)")

VARIANTS = {
    "00_welcome": {
        "softmax": {
            "no_max_shift": "def softmax(z):\n    import numpy as np\n    e = np.exp(np.asarray(z, float))\n"
                            "    return e / e.sum(axis=-1, keepdims=True)\n",
            "wrong_axis": "def softmax(z):\n    import numpy as np\n    z = np.asarray(z, float)\n"
                          "    e = np.exp(z - z.max(axis=0, keepdims=True))\n    return e / e.sum(axis=0, keepdims=True)\n",
            "no_exp": "def softmax(z):\n    import numpy as np\n    z = np.asarray(z, float)\n"
                      "    return z / z.sum(axis=-1, keepdims=True)\n",
            "max_over_the_whole_array": "def softmax(z):\n    import numpy as np\n    z = np.asarray(z, float)\n"
                                        "    e = np.exp(z - z.max())\n    return e / e.sum(axis=-1, keepdims=True)\n",
            "global_normalisation": "def softmax(z):\n    import numpy as np\n    z = np.asarray(z, float)\n"
                                    "    e = np.exp(z - z.max())\n    return e / e.sum()\n",
        },
        "cross_entropy": {
            "sum_not_mean": "def cross_entropy(logits, targets):\n    import numpy as np\n    s = logits - logits.max(-1, keepdims=True)\n"
                            "    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))\n"
                            "    return -lp[np.arange(len(targets)), targets].sum()\n",
            "log2": "def cross_entropy(logits, targets):\n    import numpy as np\n    s = logits - logits.max(-1, keepdims=True)\n"
                    "    p = np.exp(s) / np.exp(s).sum(-1, keepdims=True)\n"
                    "    return -np.log2(p[np.arange(len(targets)), targets]).mean()\n",
            "off_by_one_target": "def cross_entropy(logits, targets):\n    import numpy as np\n    s = logits - logits.max(-1, keepdims=True)\n"
                                 "    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))\n"
                                 "    return -lp[np.arange(len(targets)), (targets + 1) % logits.shape[1]].mean()\n",
            "log_of_softmax_unstable": "def cross_entropy(logits, targets):\n    import numpy as np\n    e = np.exp(logits)\n"
                                       "    p = e / e.sum(-1, keepdims=True)\n"
                                       "    return -np.log(p[np.arange(len(targets)), targets]).mean()\n",
        },
    },
    "01_ngrams": {
        "count_bigrams": {
            "no_boundaries": "def count_bigrams(sentences):\n    c = {}\n    for s in sentences:\n"
                             "        for a, b in zip(s[:-1], s[1:]):\n            c.setdefault(a, {})\n"
                             "            c[a][b] = c[a].get(b, 0) + 1\n    return c\n",
            "no_eos": "def count_bigrams(sentences):\n    c = {}\n    for s in sentences:\n        p = ['<bos>'] + list(s)\n"
                      "        for a, b in zip(p[:-1], p[1:]):\n            c.setdefault(a, {})\n"
                      "            c[a][b] = c[a].get(b, 0) + 1\n    return c\n",
            "off_by_one_last_pair": "def count_bigrams(sentences):\n    c = {}\n    for s in sentences:\n"
                                    "        p = ['<bos>'] + list(s) + ['<eos>']\n"
                                    "        for a, b in zip(p[:-2], p[1:-1]):\n            c.setdefault(a, {})\n"
                                    "            c[a][b] = c[a].get(b, 0) + 1\n    return c\n",
            "one_stream": "def count_bigrams(sentences):\n    c = {}\n    p = ['<bos>'] + [w for s in sentences for w in s] + ['<eos>']\n"
                          "    for a, b in zip(p[:-1], p[1:]):\n        c.setdefault(a, {})\n"
                          "        c[a][b] = c[a].get(b, 0) + 1\n    return c\n",
        },
        "addk_prob": {
            "k_not_times_v": "def addk_prob(counts, prev, word, k, vocab_size):\n    f = counts.get(prev, {})\n"
                             "    return (f.get(word, 0) + k) / (sum(f.values()) + k)\n",
            "ignores_k": "def addk_prob(counts, prev, word, k, vocab_size):\n    f = counts.get(prev, {})\n"
                         "    return f.get(word, 0) / max(sum(f.values()), 1)\n",
            "k_only_in_numerator": "def addk_prob(counts, prev, word, k, vocab_size):\n    f = counts.get(prev, {})\n"
                                   "    return (f.get(word, 0) + k) / (sum(f.values()) or 1)\n",
            "v_plus_one": "def addk_prob(counts, prev, word, k, vocab_size):\n    f = counts.get(prev, {})\n"
                          "    return (f.get(word, 0) + k) / (sum(f.values()) + k * (vocab_size + 1))\n",
        },
        "perplexity": {
            "log2_mixup": "import math\ndef perplexity(sentences, probs):\n    lp, n = 0.0, 0\n"
                          "    for s in sentences:\n        p = ['<bos>'] + list(s) + ['<eos>']\n"
                          "        for a, b in zip(p[:-1], p[1:]):\n            lp += math.log(probs[a][b]); n += 1\n"
                          "    return 2 ** (-lp / n)\n",
            "eos_not_counted_in_n": "import math\ndef perplexity(sentences, probs):\n    lp, n = 0.0, 0\n"
                                    "    for s in sentences:\n        p = ['<bos>'] + list(s) + ['<eos>']\n"
                                    "        for a, b in zip(p[:-1], p[1:]):\n            lp += math.log(probs[a][b])\n"
                                    "        n += len(s)\n    return math.exp(-lp / n)\n",
            "mean_of_sentence_perplexities": "import math\ndef perplexity(sentences, probs):\n    out = []\n"
                                             "    for s in sentences:\n        p = ['<bos>'] + list(s) + ['<eos>']\n"
                                             "        lp = sum(math.log(probs[a][b]) for a, b in zip(p[:-1], p[1:]))\n"
                                             "        out.append(math.exp(-lp / (len(p) - 1)))\n    return sum(out) / len(out)\n",
            "no_eos_prediction": "import math\ndef perplexity(sentences, probs):\n    lp, n = 0.0, 0\n"
                                 "    for s in sentences:\n        p = ['<bos>'] + list(s)\n"
                                 "        for a, b in zip(p[:-1], p[1:]):\n            lp += math.log(probs[a][b]); n += 1\n"
                                 "    return math.exp(-lp / n)\n",
        },
        "make_windows": {
            "input_contains_the_target": "import torch\ndef make_windows(ids, window, bos_id):\n"
                                         "    p = [bos_id] * (window - 1) + list(ids)\n"
                                         "    return torch.tensor([p[t:t + window] for t in range(len(ids))]), torch.tensor(list(ids))\n",
            "target_is_the_next_id": "import torch\ndef make_windows(ids, window, bos_id):\n"
                                     "    p = [bos_id] * window + list(ids)\n"
                                     "    X = [p[t:t + window] for t in range(len(ids) - 1)]\n"
                                     "    return torch.tensor(X), torch.tensor(list(ids[1:]))\n",
            "no_padding_drops_the_start": "import torch\ndef make_windows(ids, window, bos_id):\n"
                                          "    X = [ids[t - window:t] for t in range(window, len(ids))]\n"
                                          "    return torch.tensor(X), torch.tensor(list(ids[window:]))\n",
            "pads_with_0_not_bos_id": "import torch\ndef make_windows(ids, window, bos_id):\n"
                                      "    p = [0] * window + list(ids)\n"
                                      "    return torch.tensor([p[t:t + window] for t in range(len(ids))]), torch.tensor(list(ids))\n",
            "newest_first": "import torch\ndef make_windows(ids, window, bos_id):\n"
                            "    p = [bos_id] * window + list(ids)\n"
                            "    return torch.tensor([p[t:t + window][::-1] for t in range(len(ids))]), torch.tensor(list(ids))\n",
        },
        "WindowLM": {
            "no_tanh": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass WindowLM(nn.Module):\n    def __init__(self, vocab_size, window, embed_dim, hidden):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        self.hidden = nn.Linear(window * embed_dim, hidden)\n        self.out = nn.Linear(hidden, vocab_size)\n    def forward(self, idx, targets=None):\n"
                       "        logits = self.out(self.hidden(self.embed(idx).flatten(1)))\n"
                       "        return logits, None if targets is None else F.cross_entropy(logits, targets)\n",
            "summed_not_concatenated": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
                                       "class WindowLM(nn.Module):\n"
                                       "    def __init__(self, vocab_size, window, embed_dim, hidden):\n        super().__init__()\n"
                                       "        self.embed = nn.Embedding(vocab_size, embed_dim)\n"
                                       "        self.hidden = nn.Linear(embed_dim, hidden)\n        self.out = nn.Linear(hidden, vocab_size)\n"
                                       "    def forward(self, idx, targets=None):\n"
                                       "        logits = self.out(torch.tanh(self.hidden(self.embed(idx).sum(1))))\n"
                                       "        return logits, None if targets is None else F.cross_entropy(logits, targets)\n",
            "softmax_then_cross_entropy": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass WindowLM(nn.Module):\n    def __init__(self, vocab_size, window, embed_dim, hidden):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        self.hidden = nn.Linear(window * embed_dim, hidden)\n        self.out = nn.Linear(hidden, vocab_size)\n    def forward(self, idx, targets=None):\n"
                                          "        logits = self.out(torch.tanh(self.hidden(self.embed(idx).flatten(1))))\n"
                                          "        return logits, None if targets is None else F.cross_entropy(logits.softmax(-1), targets)\n",
            "loss_summed": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass WindowLM(nn.Module):\n    def __init__(self, vocab_size, window, embed_dim, hidden):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        self.hidden = nn.Linear(window * embed_dim, hidden)\n        self.out = nn.Linear(hidden, vocab_size)\n    def forward(self, idx, targets=None):\n"
                           "        logits = self.out(torch.tanh(self.hidden(self.embed(idx).flatten(1))))\n"
                           "        return logits, None if targets is None else F.cross_entropy(logits, targets, reduction='sum')\n",
            "window_reversed": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass WindowLM(nn.Module):\n    def __init__(self, vocab_size, window, embed_dim, hidden):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        self.hidden = nn.Linear(window * embed_dim, hidden)\n        self.out = nn.Linear(hidden, vocab_size)\n    def forward(self, idx, targets=None):\n"
                               "        logits = self.out(torch.tanh(self.hidden(self.embed(idx.flip(1)).flatten(1))))\n"
                               "        return logits, None if targets is None else F.cross_entropy(logits, targets)\n",
        },
        "train_window_lm": {
            "targets_not_shifted": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n"
                                   "    X, _ = make_windows(ids, window, bos_id)\n    Y = X[:, -1].clone()\n"
                                   "    model = WindowLM(vocab_size, window, 8, 32)\n    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n        for p in model.parameters(): p.grad = None\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters(): p -= lr * p.grad\n"
                                   "        losses.append(loss.item())\n    return losses, model.state_dict()\n",
            "no_update": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n"
                         "    X, Y = make_windows(ids, window, bos_id)\n"
                         "    model = WindowLM(vocab_size, window, 8, 32)\n    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n        for p in model.parameters(): p.grad = None\n        loss.backward()\n"
                         "        losses.append(loss.item())\n    return losses, model.state_dict()\n",
            "gradient_ascent": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n"
                               "    X, Y = make_windows(ids, window, bos_id)\n"
                               "    model = WindowLM(vocab_size, window, 8, 32)\n    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n        for p in model.parameters(): p.grad = None\n        loss.backward()\n"
                               "        with torch.no_grad():\n            for p in model.parameters(): p += lr * p.grad\n"
                               "        losses.append(loss.item())\n    return losses, model.state_dict()\n",
            "gradients_never_cleared": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n"
                                       "    X, Y = make_windows(ids, window, bos_id)\n"
                                       "    model = WindowLM(vocab_size, window, 8, 32)\n    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters(): p -= lr * p.grad\n"
                                       "        losses.append(loss.item())\n    return losses, model.state_dict()\n",
            "embeddings_never_updated": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n    X, Y = make_windows(ids, window, bos_id)\n    model = WindowLM(vocab_size, window, 8, 32)\n    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n        for p in model.parameters(): p.grad = None\n        loss.backward()\n        with torch.no_grad():\n            for n, p in model.named_parameters():\n                if not n.startswith('embed'): p -= lr * p.grad\n        losses.append(loss.item())\n    return losses, model.state_dict()\n",
            "learning_rate_ignored": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n    X, Y = make_windows(ids, window, bos_id)\n    model = WindowLM(vocab_size, window, 8, 32)\n    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n        for p in model.parameters(): p.grad = None\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters(): p -= 0.5 * p.grad\n        losses.append(loss.item())\n    return losses, model.state_dict()\n",
            "windows_padded_with_0": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n    X, Y = make_windows(ids, window, 0)\n    model = WindowLM(vocab_size, window, 8, 32)\n    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n        for p in model.parameters(): p.grad = None\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters(): p -= lr * p.grad\n        losses.append(loss.item())\n    return losses, model.state_dict()\n",
            "returns_the_untrained_weights": "import torch\ndef train_window_lm(ids, vocab_size, bos_id, window, steps, lr, seed):\n    torch.manual_seed(seed)\n"
                                             "    X, Y = make_windows(ids, window, bos_id)\n"
                                             "    model = WindowLM(vocab_size, window, 8, 32)\n"
                                             "    first = {k: v.clone() for k, v in model.state_dict().items()}\n"
                                             "    losses = []\n    for _ in range(steps):\n        _, loss = model(X, Y)\n"
                                             "        for p in model.parameters(): p.grad = None\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters(): p -= lr * p.grad\n"
                                             "        losses.append(loss.item())\n    return losses, first\n",
        },
    },
    "03_rnn": {
        "rnn_step": {
            "missing_bias": "import numpy as np\ndef rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n"
                            "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh.T)\n",
            "h_prev_ignored": "import numpy as np\ndef rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n"
                              "    return np.tanh(x_t @ W_xh.T + b_h)\n",
            "w_hh_not_transposed": "import numpy as np\ndef rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n"
                                   "    return np.tanh(x_t @ W_xh.T + h_prev @ W_hh + b_h)\n",
            "sigmoid_not_tanh": "import numpy as np\ndef rnn_step(x_t, h_prev, W_xh, W_hh, b_h):\n"
                                "    return 1 / (1 + np.exp(-(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)))\n",
        },
        "rnn_forward": {
            "h_not_carried": "import numpy as np\ndef rnn_forward(X, h0, W_xh, W_hh, b_h):\n"
                             "    return np.stack([rnn_step(X[:, t], h0, W_xh, W_hh, b_h) for t in range(X.shape[1])], 1)\n",
            "off_by_one_returns_h0": "import numpy as np\ndef rnn_forward(X, h0, W_xh, W_hh, b_h):\n    h, out = h0, []\n"
                                     "    for t in range(X.shape[1]):\n        out.append(h)\n"
                                     "        h = rnn_step(X[:, t], h, W_xh, W_hh, b_h)\n    return np.stack(out, 1)\n",
            "time_reversed": "import numpy as np\ndef rnn_forward(X, h0, W_xh, W_hh, b_h):\n    h, out = h0, []\n"
                             "    for t in reversed(range(X.shape[1])):\n        h = rnn_step(X[:, t], h, W_xh, W_hh, b_h)\n"
                             "        out.append(h)\n    return np.stack(out[::-1], 1)\n",
            "time_is_axis_0": "import numpy as np\ndef rnn_forward(X, h0, W_xh, W_hh, b_h):\n    h, out = h0, []\n"
                              "    for t in range(X.shape[0]):\n        h = rnn_step(X[t], h, W_xh, W_hh, b_h)\n"
                              "        out.append(h)\n    return np.stack(out, 1)\n",
        },
        "sequence_loss": {
            "softmax_over_time": "import numpy as np\ndef sequence_loss(logits, targets):\n"
                                 "    s = logits - logits.max(axis=1, keepdims=True)\n"
                                 "    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))\n"
                                 "    loss = float(-np.take_along_axis(lp, targets[..., None], -1).mean())\n"
                                 "    return loss, float(np.exp(loss))\n",
            "log2_ln_mixup": "import numpy as np\ndef sequence_loss(logits, targets):\n"
                             "    s = logits - logits.max(-1, keepdims=True)\n"
                             "    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))\n"
                             "    loss = float(-np.take_along_axis(lp, targets[..., None], -1).mean())\n"
                             "    return loss, float(2 ** loss)\n",
            "sum_over_time": "import numpy as np\ndef sequence_loss(logits, targets):\n"
                             "    s = logits - logits.max(-1, keepdims=True)\n"
                             "    lp = s - np.log(np.exp(s).sum(-1, keepdims=True))\n"
                             "    loss = float(-np.take_along_axis(lp, targets[..., None], -1)[..., 0].sum(1).mean())\n"
                             "    return loss, float(np.exp(loss))\n",
            "uniform_guess_ignores_targets": "import numpy as np\ndef sequence_loss(logits, targets):\n"
                                             "    V = logits.shape[-1]\n    return float(np.log(V)), float(V)\n",
            "unstable_log_softmax": "import numpy as np\ndef sequence_loss(logits, targets):\n    e = np.exp(logits)\n"
                                    "    p = e / e.sum(-1, keepdims=True)\n"
                                    "    loss = float(-np.log(np.take_along_axis(p, targets[..., None], -1)).mean())\n"
                                    "    return loss, float(np.exp(loss))\n",
        },
        "sample_probs": {
            "multiplies_by_t": "import numpy as np\ndef sample_probs(logits, temperature, banned):\n"
                               "    z = np.asarray(logits, float) * temperature\n    z[list(banned)] = -np.inf\n"
                               "    e = np.exp(z - z.max())\n    return e / e.sum()\n",
            "ban_without_renormalising": "import numpy as np\ndef sample_probs(logits, temperature, banned):\n"
                                         "    z = np.asarray(logits, float) / temperature\n    e = np.exp(z - z.max())\n"
                                         "    p = e / e.sum()\n    p[list(banned)] = 0\n    return p\n",
            "no_max_shift": "import numpy as np\ndef sample_probs(logits, temperature, banned):\n"
                            "    z = np.asarray(logits, float) / temperature\n    e = np.exp(z)\n    e[list(banned)] = 0\n"
                            "    return e / e.sum()\n",
            "temperature_after_softmax": "import numpy as np\ndef sample_probs(logits, temperature, banned):\n"
                                         "    z = np.asarray(logits, float)\n    e = np.exp(z - z.max())\n    e[list(banned)] = 0\n"
                                         "    p = (e / e.sum()) ** (1 / temperature)\n    return p\n",
        },
        "lm_batch": {
            "no_shift": "import torch\ndef lm_batch(ids, starts, seq_len):\n    ids = torch.as_tensor(ids, dtype=torch.long)\n    x = torch.stack([ids[int(s):int(s) + seq_len] for s in starts])\n    return x, x.clone()\n",
            "shift_backwards": "import torch\ndef lm_batch(ids, starts, seq_len):\n    ids = torch.as_tensor(ids, dtype=torch.long)\n    x = torch.stack([ids[int(s):int(s) + seq_len] for s in starts])\n"
                               "    y = torch.stack([ids[max(int(s) - 1, 0):max(int(s) - 1, 0) + seq_len] for s in starts])\n    return x, y\n",
            "shift_by_two": "import torch\ndef lm_batch(ids, starts, seq_len):\n    ids = torch.as_tensor(ids, dtype=torch.long)\n    x = torch.stack([ids[int(s):int(s) + seq_len] for s in starts])\n"
                            "    y = torch.stack([torch.cat([ids[int(s) + 2:int(s) + seq_len + 2], ids[-1:]])[:seq_len] for s in starts])\n    return x, y\n",
            "float_tensors": "import torch\ndef lm_batch(ids, starts, seq_len):\n    ids = torch.as_tensor(ids, dtype=torch.float32)\n    x = torch.stack([ids[int(s):int(s) + seq_len] for s in starts])\n"
                             "    y = torch.stack([ids[int(s) + 1:int(s) + seq_len + 1] for s in starts])\n    return x, y\n",
            "swapped": "import torch\ndef lm_batch(ids, starts, seq_len):\n    ids = torch.as_tensor(ids, dtype=torch.long)\n    x = torch.stack([ids[int(s):int(s) + seq_len] for s in starts])\n"
                       "    y = torch.stack([ids[int(s) + 1:int(s) + seq_len + 1] for s in starts])\n    return y, x\n",
        },
        "RNNLanguageModel": {
            "softmax_before_loss": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass RNNLanguageModel(nn.Module):\n    def __init__(self, vocab_size, embed_dim, hidden_size):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        s = 1 / hidden_size ** 0.5\n        self.W_xh = nn.Parameter(torch.empty(hidden_size, embed_dim).uniform_(-s, s))\n        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-s, s))\n        self.b_h = nn.Parameter(torch.zeros(hidden_size))\n        self.W_hy = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-s, s))\n        self.b_y = nn.Parameter(torch.zeros(vocab_size))\n    def forward(self, idx, targets=None):\n        x = self.embed(idx)\n        h = torch.zeros(idx.shape[0], self.W_hh.shape[0])\n        states = []\n        for t in range(idx.shape[1]):\n            h = torch.tanh(x[:, t] @ self.W_xh.T + h @ self.W_hh.T + self.b_h)\n            states.append(h)\n"
                                   "        logits = torch.softmax(torch.stack(states, 1) @ self.W_hy.T + self.b_y, -1)\n        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))\n        return logits, loss\n",
            "loss_summed": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass RNNLanguageModel(nn.Module):\n    def __init__(self, vocab_size, embed_dim, hidden_size):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        s = 1 / hidden_size ** 0.5\n        self.W_xh = nn.Parameter(torch.empty(hidden_size, embed_dim).uniform_(-s, s))\n        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-s, s))\n        self.b_h = nn.Parameter(torch.zeros(hidden_size))\n        self.W_hy = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-s, s))\n        self.b_y = nn.Parameter(torch.zeros(vocab_size))\n    def forward(self, idx, targets=None):\n        x = self.embed(idx)\n        h = torch.zeros(idx.shape[0], self.W_hh.shape[0])\n        states = []\n        for t in range(idx.shape[1]):\n            h = torch.tanh(x[:, t] @ self.W_xh.T + h @ self.W_hh.T + self.b_h)\n            states.append(h)\n        logits = torch.stack(states, 1) @ self.W_hy.T + self.b_y\n"
                           "        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction='sum')\n"
                           "        return logits, loss\n",
            "h_detached_every_step": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass RNNLanguageModel(nn.Module):\n    def __init__(self, vocab_size, embed_dim, hidden_size):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        s = 1 / hidden_size ** 0.5\n        self.W_xh = nn.Parameter(torch.empty(hidden_size, embed_dim).uniform_(-s, s))\n        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-s, s))\n        self.b_h = nn.Parameter(torch.zeros(hidden_size))\n        self.W_hy = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-s, s))\n        self.b_y = nn.Parameter(torch.zeros(vocab_size))\n    def forward(self, idx, targets=None):\n        x = self.embed(idx)\n        h = torch.zeros(idx.shape[0], self.W_hh.shape[0])\n        states = []\n        for t in range(idx.shape[1]):\n            h = torch.tanh(x[:, t] @ self.W_xh.T + h.detach() @ self.W_hh.T + self.b_h)\n            states.append(h)\n        logits = torch.stack(states, 1) @ self.W_hy.T + self.b_y\n"
                           "        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))\n"
                           "        return logits, loss\n",
            "h_kept_between_calls": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass RNNLanguageModel(nn.Module):\n    def __init__(self, vocab_size, embed_dim, hidden_size):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        s = 1 / hidden_size ** 0.5\n        self.W_xh = nn.Parameter(torch.empty(hidden_size, embed_dim).uniform_(-s, s))\n        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-s, s))\n        self.b_h = nn.Parameter(torch.zeros(hidden_size))\n        self.W_hy = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-s, s))\n        self.b_y = nn.Parameter(torch.zeros(vocab_size))\n    def forward(self, idx, targets=None):\n        x = self.embed(idx)\n        h = getattr(self, 'h_last', None)\n        if h is None or h.shape[0] != idx.shape[0]:\n            h = torch.zeros(idx.shape[0], self.W_hh.shape[0])\n        states = []\n        for t in range(idx.shape[1]):\n            h = torch.tanh(x[:, t] @ self.W_xh.T + h @ self.W_hh.T + self.b_h)\n            states.append(h)\n        self.h_last = h.detach()\n        logits = torch.stack(states, 1) @ self.W_hy.T + self.b_y\n"
                           "        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))\n"
                           "        return logits, loss\n",
            "h_not_carried": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass RNNLanguageModel(nn.Module):\n    def __init__(self, vocab_size, embed_dim, hidden_size):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        s = 1 / hidden_size ** 0.5\n        self.W_xh = nn.Parameter(torch.empty(hidden_size, embed_dim).uniform_(-s, s))\n        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-s, s))\n        self.b_h = nn.Parameter(torch.zeros(hidden_size))\n        self.W_hy = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-s, s))\n        self.b_y = nn.Parameter(torch.zeros(vocab_size))\n    def forward(self, idx, targets=None):\n        x = self.embed(idx)\n        h = torch.zeros(idx.shape[0], self.W_hh.shape[0])\n        states = []\n        for t in range(idx.shape[1]):\n"
                             "            states.append(torch.tanh(x[:, t] @ self.W_xh.T + h @ self.W_hh.T + self.b_h))\n"
                             "        logits = torch.stack(states, 1) @ self.W_hy.T + self.b_y\n        loss = None if targets is None else F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))\n        return logits, loss\n",
            "time_and_batch_mixed_in_loss": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\nclass RNNLanguageModel(nn.Module):\n    def __init__(self, vocab_size, embed_dim, hidden_size):\n        super().__init__()\n        self.embed = nn.Embedding(vocab_size, embed_dim)\n        s = 1 / hidden_size ** 0.5\n        self.W_xh = nn.Parameter(torch.empty(hidden_size, embed_dim).uniform_(-s, s))\n        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-s, s))\n        self.b_h = nn.Parameter(torch.zeros(hidden_size))\n        self.W_hy = nn.Parameter(torch.empty(vocab_size, hidden_size).uniform_(-s, s))\n        self.b_y = nn.Parameter(torch.zeros(vocab_size))\n    def forward(self, idx, targets=None):\n        x = self.embed(idx)\n        h = torch.zeros(idx.shape[0], self.W_hh.shape[0])\n        states = []\n        for t in range(idx.shape[1]):\n            h = torch.tanh(x[:, t] @ self.W_xh.T + h @ self.W_hh.T + self.b_h)\n            states.append(h)\n        logits = torch.stack(states, 1) @ self.W_hy.T + self.b_y\n"
                                            "        loss = None if targets is None else F.cross_entropy(logits.transpose(0, 1).reshape(-1, logits.shape[-1]), targets.reshape(-1))\n"
                                            "        return logits, loss\n",
        },
        "train_lm": {
            "targets_not_shifted": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, _ = lm_batch(ids, starts, seq_len)\n        _, loss = model(x, x)\n"
                                   "        model.zero_grad()\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters():\n                p -= lr * p.grad\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
            "parameters_never_updated": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, y = lm_batch(ids, starts, seq_len)\n        _, loss = model(x, y)\n"
                                 "        model.zero_grad()\n        loss.backward()\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
            "recurrent_weights_never_updated": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, y = lm_batch(ids, starts, seq_len)\n        _, loss = model(x, y)\n        model.zero_grad()\n        loss.backward()\n        with torch.no_grad():\n            for n, p in model.named_parameters():\n                if n not in ('W_xh', 'W_hh', 'b_h'): p -= lr * p.grad\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
            "embedding_never_updated": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, y = lm_batch(ids, starts, seq_len)\n        _, loss = model(x, y)\n        model.zero_grad()\n        loss.backward()\n        with torch.no_grad():\n            for n, p in model.named_parameters():\n                if n != 'embed.weight': p -= lr * p.grad\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
            "gradients_never_cleared": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, y = lm_batch(ids, starts, seq_len)\n        _, loss = model(x, y)\n        loss.backward()\n        with torch.no_grad():\n            for n, p in model.named_parameters():\n                if True: p -= lr * p.grad\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
            "learning_rate_ignored": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, y = lm_batch(ids, starts, seq_len)\n        _, loss = model(x, y)\n        model.zero_grad()\n        loss.backward()\n        with torch.no_grad():\n            for n, p in model.named_parameters():\n                if True: p -= 1.0 * p.grad\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
            "moves_up_the_gradient": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, y = lm_batch(ids, starts, seq_len)\n        _, loss = model(x, y)\n"
                               "        model.zero_grad()\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters():\n                p += lr * p.grad\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
            "predicts_the_previous_token": "import torch\ndef train_lm(ids, vocab_size, steps, seq_len=8, batch_size=8, lr=1.0, seed=0):\n    torch.manual_seed(seed)\n    model = RNNLanguageModel(vocab_size, 16, 32)\n    gen = torch.Generator().manual_seed(seed)\n    losses = []\n    for _ in range(steps):\n        starts = torch.randint(0, len(ids) - seq_len, (batch_size,), generator=gen)\n        x, y = lm_batch(ids, starts, seq_len)\n        _, loss = model(y, x)\n"
                                           "        model.zero_grad()\n        loss.backward()\n        with torch.no_grad():\n            for p in model.parameters():\n                p -= lr * p.grad\n        losses.append(loss.item())\n    return losses, dict(model.named_parameters())\n",
        },
    },
    "04_bptt": {
        "delta_h_step": {
            "missing_fprime": "def delta_h_step(delta_y_t, delta_h_next, W_hy, W_hh, h_t):\n"
                              "    return delta_y_t @ W_hy + delta_h_next @ W_hh\n",
            "transposes_swapped": "def delta_h_step(delta_y_t, delta_h_next, W_hy, W_hh, h_t):\n"
                                  "    return (delta_y_t @ W_hy + delta_h_next @ W_hh.T) * (1 - h_t ** 2)\n",
            "wrong_derivative": "def delta_h_step(delta_y_t, delta_h_next, W_hy, W_hh, h_t):\n"
                                "    return (delta_y_t @ W_hy + delta_h_next @ W_hh) * (1 - h_t)\n",
            "no_recurrent_term": "def delta_h_step(delta_y_t, delta_h_next, W_hy, W_hh, h_t):\n"
                                 "    return (delta_y_t @ W_hy) * (1 - h_t ** 2)\n",
        },
        "grad_W_hh": {
            "current_state_slide_typo": "import numpy as np\ndef grad_W_hh(h, delta_h):\n"
                                        "    return np.einsum('bti,btj->ij', delta_h, h[:, 1:])\n",
            "last_step_only": "import numpy as np\ndef grad_W_hh(h, delta_h):\n"
                              "    return np.einsum('bi,bj->ij', delta_h[:, -1], h[:, -2])\n",
            "transposed": "import numpy as np\ndef grad_W_hh(h, delta_h):\n"
                          "    return np.einsum('bti,btj->ji', delta_h, h[:, :-1])\n",
            "mean_over_time": "import numpy as np\ndef grad_W_hh(h, delta_h):\n"
                              "    return np.einsum('bti,btj->ij', delta_h, h[:, :-1]) / delta_h.shape[1]\n",
        },
        "jacobian_norm": {
            "no_diag": "import numpy as np\ndef jacobian_norm(W_hh, h, t_from, t_to):\n"
                       "    return float(np.linalg.norm(np.linalg.matrix_power(W_hh, t_to - t_from), 2))\n",
            "frobenius": "import numpy as np\ndef jacobian_norm(W_hh, h, t_from, t_to):\n    J = np.eye(W_hh.shape[0])\n"
                         "    for i in range(t_from + 1, t_to + 1):\n        J = (1 - h[i] ** 2)[:, None] * W_hh @ J\n"
                         "    return float(np.linalg.norm(J))\n",
            "off_by_one": "import numpy as np\ndef jacobian_norm(W_hh, h, t_from, t_to):\n    J = np.eye(W_hh.shape[0])\n"
                          "    for i in range(t_from, t_to):\n        J = (1 - h[i] ** 2)[:, None] * W_hh @ J\n"
                          "    return float(np.linalg.norm(J, 2))\n",
            "diag_on_the_right": "import numpy as np\ndef jacobian_norm(W_hh, h, t_from, t_to):\n    J = np.eye(W_hh.shape[0])\n"
                                 "    for i in range(t_from + 1, t_to + 1):\n        J = W_hh * (1 - h[i] ** 2)[None, :] @ J\n"
                                 "    return float(np.linalg.norm(J, 2))\n",
        },
        "bptt": {
            "no_sigmoid_slope": "import numpy as np\ndef bptt(params, X, d, h0):\n    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'))\n    T = X.shape[1]\n    hs, ys = [h0], []\n    for t in range(T):\n        hs.append(np.tanh(X[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))\n        ys.append(1 / (1 + np.exp(-(hs[-1] @ W_hy.T + b_y))))\n    E = float(sum(0.5 * ((ys[t] - d[:, t]) ** 2).sum() for t in range(T)))\n    grads = {k: np.zeros_like(v) for k, v in params.items()}\n    delta_h = np.zeros_like(h0)\n    for t in reversed(range(T)):\n        delta_y = ys[t] - d[:, t]\n        delta_h = delta_h_step(delta_y, delta_h, W_hy, W_hh, hs[t + 1])\n        grads['W_hy'] += delta_y.T @ hs[t + 1]\n        grads['b_y'] += delta_y.sum(0)\n        grads['W_xh'] += delta_h.T @ X[:, t]\n        grads['W_hh'] += delta_h.T @ hs[t]\n        grads['b_h'] += delta_h.sum(0)\n    grads['h0'] = delta_h @ W_hh\n    return E, grads\n",
            "no_path_through_time": "import numpy as np\ndef bptt(params, X, d, h0):\n    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'))\n    T = X.shape[1]\n    hs, ys = [h0], []\n    for t in range(T):\n        hs.append(np.tanh(X[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))\n        ys.append(1 / (1 + np.exp(-(hs[-1] @ W_hy.T + b_y))))\n    E = float(sum(0.5 * ((ys[t] - d[:, t]) ** 2).sum() for t in range(T)))\n    grads = {k: np.zeros_like(v) for k, v in params.items()}\n    delta_h = np.zeros_like(h0)\n    for t in reversed(range(T)):\n        delta_y = (ys[t] - d[:, t]) * ys[t] * (1 - ys[t])\n        delta_h = (delta_y @ W_hy) * (1 - hs[t + 1] ** 2)\n        grads['W_hy'] += delta_y.T @ hs[t + 1]\n        grads['b_y'] += delta_y.sum(0)\n        grads['W_xh'] += delta_h.T @ X[:, t]\n        grads['W_hh'] += delta_h.T @ hs[t]\n        grads['b_h'] += delta_h.sum(0)\n    grads['h0'] = delta_h @ W_hh\n    return E, grads\n",
            "w_hh_paired_with_current_state": "import numpy as np\ndef bptt(params, X, d, h0):\n    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'))\n    T = X.shape[1]\n    hs, ys = [h0], []\n    for t in range(T):\n        hs.append(np.tanh(X[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))\n        ys.append(1 / (1 + np.exp(-(hs[-1] @ W_hy.T + b_y))))\n    E = float(sum(0.5 * ((ys[t] - d[:, t]) ** 2).sum() for t in range(T)))\n    grads = {k: np.zeros_like(v) for k, v in params.items()}\n    delta_h = np.zeros_like(h0)\n    for t in reversed(range(T)):\n        delta_y = (ys[t] - d[:, t]) * ys[t] * (1 - ys[t])\n        delta_h = delta_h_step(delta_y, delta_h, W_hy, W_hh, hs[t + 1])\n        grads['W_hy'] += delta_y.T @ hs[t + 1]\n        grads['b_y'] += delta_y.sum(0)\n        grads['W_xh'] += delta_h.T @ X[:, t]\n        grads['W_hh'] += delta_h.T @ hs[t + 1]\n        grads['b_h'] += delta_h.sum(0)\n    grads['h0'] = delta_h @ W_hh\n    return E, grads\n",
            "h0_gradient_is_delta_1": "import numpy as np\ndef bptt(params, X, d, h0):\n    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'))\n    T = X.shape[1]\n    hs, ys = [h0], []\n    for t in range(T):\n        hs.append(np.tanh(X[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))\n        ys.append(1 / (1 + np.exp(-(hs[-1] @ W_hy.T + b_y))))\n    E = float(sum(0.5 * ((ys[t] - d[:, t]) ** 2).sum() for t in range(T)))\n    grads = {k: np.zeros_like(v) for k, v in params.items()}\n    delta_h = np.zeros_like(h0)\n    for t in reversed(range(T)):\n        delta_y = (ys[t] - d[:, t]) * ys[t] * (1 - ys[t])\n        delta_h = delta_h_step(delta_y, delta_h, W_hy, W_hh, hs[t + 1])\n        grads['W_hy'] += delta_y.T @ hs[t + 1]\n        grads['b_y'] += delta_y.sum(0)\n        grads['W_xh'] += delta_h.T @ X[:, t]\n        grads['W_hh'] += delta_h.T @ hs[t]\n        grads['b_h'] += delta_h.sum(0)\n    grads['h0'] = delta_h\n    return E, grads\n",
            "hidden_bias_averaged_over_batch": "import numpy as np\ndef bptt(params, X, d, h0):\n    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'))\n    T = X.shape[1]\n    hs, ys = [h0], []\n    for t in range(T):\n        hs.append(np.tanh(X[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))\n        ys.append(1 / (1 + np.exp(-(hs[-1] @ W_hy.T + b_y))))\n    E = float(sum(0.5 * ((ys[t] - d[:, t]) ** 2).sum() for t in range(T)))\n    grads = {k: np.zeros_like(v) for k, v in params.items()}\n    delta_h = np.zeros_like(h0)\n    for t in reversed(range(T)):\n        delta_y = (ys[t] - d[:, t]) * ys[t] * (1 - ys[t])\n        delta_h = delta_h_step(delta_y, delta_h, W_hy, W_hh, hs[t + 1])\n        grads['W_hy'] += delta_y.T @ hs[t + 1]\n        grads['b_y'] += delta_y.sum(0)\n        grads['W_xh'] += delta_h.T @ X[:, t]\n        grads['W_hh'] += delta_h.T @ hs[t]\n        grads['b_h'] += delta_h.mean(0)\n    grads['h0'] = delta_h @ W_hh\n    return E, grads\n",
            "w_hy_paired_with_previous_state": "import numpy as np\ndef bptt(params, X, d, h0):\n    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in ('W_xh', 'W_hh', 'b_h', 'W_hy', 'b_y'))\n    T = X.shape[1]\n    hs, ys = [h0], []\n    for t in range(T):\n        hs.append(np.tanh(X[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))\n        ys.append(1 / (1 + np.exp(-(hs[-1] @ W_hy.T + b_y))))\n    E = float(sum(0.5 * ((ys[t] - d[:, t]) ** 2).sum() for t in range(T)))\n    grads = {k: np.zeros_like(v) for k, v in params.items()}\n    delta_h = np.zeros_like(h0)\n    for t in reversed(range(T)):\n        delta_y = (ys[t] - d[:, t]) * ys[t] * (1 - ys[t])\n        delta_h = delta_h_step(delta_y, delta_h, W_hy, W_hh, hs[t + 1])\n        grads['W_hy'] += delta_y.T @ hs[t]\n        grads['b_y'] += delta_y.sum(0)\n        grads['W_xh'] += delta_h.T @ X[:, t]\n        grads['W_hh'] += delta_h.T @ hs[t]\n        grads['b_h'] += delta_h.sum(0)\n    grads['h0'] = delta_h @ W_hh\n    return E, grads\n",
        },
    },
    "02_word2vec": {
        "skipgram_pairs": {
            "includes_itself": "def skipgram_pairs(tokens, window):\n    return [(c, tokens[j]) for i, c in enumerate(tokens)\n"
                               "            for j in range(max(0, i - window), min(len(tokens), i + window + 1))]\n",
            "window_off_by_one": "def skipgram_pairs(tokens, window):\n    return [(c, tokens[j]) for i, c in enumerate(tokens)\n"
                                 "            for j in range(max(0, i - window + 1), min(len(tokens), i + window)) if j != i]\n",
            "right_context_only": "def skipgram_pairs(tokens, window):\n    return [(c, tokens[j]) for i, c in enumerate(tokens)\n"
                                  "            for j in range(i + 1, min(len(tokens), i + window + 1))]\n",
            "skips_equal_words": "def skipgram_pairs(tokens, window):\n    return [(c, tokens[j]) for i, c in enumerate(tokens)\n"
                                 "            for j in range(max(0, i - window), min(len(tokens), i + window + 1)) if tokens[j] != c]\n",
        },
        "cbow_loss": {
            "sum_not_mean": "import numpy as np\ndef cbow_loss(V_ctx, U, centre):\n    s = U @ V_ctx.sum(0)\n"
                            "    m = s.max()\n    return float(m + np.log(np.exp(s - m).sum()) - s[centre])\n",
            "unstable": "import numpy as np\ndef cbow_loss(V_ctx, U, centre):\n    s = U @ V_ctx.mean(0)\n"
                        "    return float(np.log(np.exp(s).sum()) - s[centre])\n",
            "no_normaliser": "import numpy as np\ndef cbow_loss(V_ctx, U, centre):\n    s = U @ V_ctx.mean(0)\n"
                             "    return float(-s[centre])\n",
            "first_context_only": "import numpy as np\ndef cbow_loss(V_ctx, U, centre):\n    s = U @ V_ctx[0]\n"
                                  "    m = s.max()\n    return float(m + np.log(np.exp(s - m).sum()) - s[centre])\n",
        },
        "naive_softmax": {
            "forgets_the_normaliser_in_dv": "import numpy as np\ndef naive_softmax(v_c, o, U):\n    s = U @ v_c\n    m = s.max()\n    lz = m + np.log(np.exp(s - m).sum())\n    p = np.exp(s - lz)\n    y = np.zeros_like(p)\n    y[o] = 1.0\n"
                                            "    return float(lz - s[o]), -U[o], np.outer(p - y, v_c)\n",
            "sign_flipped": "import numpy as np\ndef naive_softmax(v_c, o, U):\n    s = U @ v_c\n    m = s.max()\n    lz = m + np.log(np.exp(s - m).sum())\n    p = np.exp(s - lz)\n    y = np.zeros_like(p)\n    y[o] = 1.0\n"
                            "    return float(lz - s[o]), U.T @ (y - p), np.outer(y - p, v_c)\n",
            "dU_only_row_o": "import numpy as np\ndef naive_softmax(v_c, o, U):\n    s = U @ v_c\n    m = s.max()\n    lz = m + np.log(np.exp(s - m).sum())\n    p = np.exp(s - lz)\n    y = np.zeros_like(p)\n    y[o] = 1.0\n"
                             "    return float(lz - s[o]), U.T @ (p - y), np.outer(y * (p - y), v_c)\n",
            "dv_without_minus_y": "import numpy as np\ndef naive_softmax(v_c, o, U):\n    s = U @ v_c\n    m = s.max()\n    lz = m + np.log(np.exp(s - m).sum())\n    p = np.exp(s - lz)\n    y = np.zeros_like(p)\n    y[o] = 1.0\n"
                                  "    return float(lz - s[o]), U.T @ p, np.outer(p - y, v_c)\n",
            "loss_is_log_probability": "import numpy as np\ndef naive_softmax(v_c, o, U):\n    s = U @ v_c\n    m = s.max()\n    lz = m + np.log(np.exp(s - m).sum())\n    p = np.exp(s - lz)\n    y = np.zeros_like(p)\n    y[o] = 1.0\n"
                                       "    return float(s[o] - lz), U.T @ (p - y), np.outer(p - y, v_c)\n",
        },
        "neg_sampling": {
            "constant_zero_gradient": "import numpy as np\ndef neg_sampling(v_c, u_o, u_neg):\n"
                                      "    return float((len(u_neg) + 1) * np.log(2)), 0 * v_c, 0 * u_o, 0 * u_neg\n",
            "negatives_not_negated": "import numpy as np\ndef neg_sampling(v_c, u_o, u_neg):\n    sig = lambda x: 1 / (1 + np.exp(-x))\n    sp, sn = sig(u_o @ v_c), sig(u_neg @ v_c)\n"
                                     "    return float(-np.log(sp) - np.log(sn).sum()), (sp - 1) * u_o + sn @ u_neg, "
                                     "(sp - 1) * v_c, np.outer(sn, v_c)\n",
            "gradient_sign": "import numpy as np\ndef neg_sampling(v_c, u_o, u_neg):\n    sig = lambda x: 1 / (1 + np.exp(-x))\n    sp, sn = sig(u_o @ v_c), sig(u_neg @ v_c)\n"
                             "    return float(-np.log(sp) - np.log(1 - sn).sum()), (1 - sp) * u_o + sn @ u_neg, "
                             "(sp - 1) * v_c, np.outer(sn, v_c)\n",
            "gradient_without_negatives": "import numpy as np\ndef neg_sampling(v_c, u_o, u_neg):\n    sig = lambda x: 1 / (1 + np.exp(-x))\n    sp, sn = sig(u_o @ v_c), sig(u_neg @ v_c)\n"
                                          "    return float(-np.log(sp) - np.log(1 - sn).sum()), (sp - 1) * u_o, "
                                          "(sp - 1) * v_c, np.outer(sn, v_c)\n",
            "u_o_gradient_along_u_o": "import numpy as np\ndef neg_sampling(v_c, u_o, u_neg):\n    sig = lambda x: 1 / (1 + np.exp(-x))\n    sp, sn = sig(u_o @ v_c), sig(u_neg @ v_c)\n"
                                      "    return float(-np.log(sp) - np.log(1 - sn).sum()), (sp - 1) * u_o + sn @ u_neg, "
                                      "(sp - 1) * u_o, np.outer(sn, v_c)\n",
            "noise_gradient_without_sigma": "import numpy as np\ndef neg_sampling(v_c, u_o, u_neg):\n    sig = lambda x: 1 / (1 + np.exp(-x))\n    sp, sn = sig(u_o @ v_c), sig(u_neg @ v_c)\n"
                                            "    return float(-np.log(sp) - np.log(1 - sn).sum()), (sp - 1) * u_o + sn @ u_neg, "
                                            "(sp - 1) * v_c, np.outer(np.ones_like(sn), v_c)\n",
        },
        "cosine_neighbours": {
            "dot_product": "import numpy as np\ndef cosine_neighbours(E, i, k):\n    s = E @ E[i]\n    s[i] = -np.inf\n"
                           "    return [int(j) for j in np.argsort(-s)[:k]]\n",
            "includes_itself": "import numpy as np\ndef cosine_neighbours(E, i, k):\n"
                               "    En = E / np.linalg.norm(E, axis=1, keepdims=True)\n    s = En @ En[i]\n"
                               "    return [int(j) for j in np.argsort(-s)[:k]]\n",
            "farthest_first": "import numpy as np\ndef cosine_neighbours(E, i, k):\n"
                              "    En = E / np.linalg.norm(E, axis=1, keepdims=True)\n    s = En @ En[i]\n    s[i] = np.inf\n"
                              "    return [int(j) for j in np.argsort(s)[:k]]\n",
        },
    },
    "05_clipping": {
        "clip_grad_norm": {
            "per_tensor_norm": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                               "    out = [g * min(1.0, max_norm / (np.linalg.norm(np.ravel(g), norm_type) + 1e-6)) for g in grads]\n"
                               "    return out, float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), norm_type))\n",
            "always_rescaled": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                               "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), norm_type))\n"
                               "    return [g * max_norm / (total + 1e-6) for g in grads], total\n",
            "norm_not_returned": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                                 "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), norm_type))\n"
                                 "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]\n",
            "norm_of_clipped": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                               "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), norm_type))\n"
                               "    out = [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]\n"
                               "    return out, float(np.linalg.norm(np.concatenate([np.ravel(g) for g in out]), norm_type))\n",
            "always_two_norm": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                               "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads])))\n"
                               "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total\n",
            "two_norm_unless_inf": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                                   "    p = np.inf if norm_type == np.inf else 2\n"
                                   "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), p))\n"
                                   "    return [g * min(1.0, max_norm / (total + 1e-6)) for g in grads], total\n",
            "no_epsilon": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                          "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), norm_type))\n"
                          "    return [g * min(1.0, max_norm / total) for g in grads], total\n",
            "scales_in_place": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                               "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), norm_type))\n"
                               "    for g in grads:\n        g *= min(1.0, max_norm / (total + 1e-6))\n"
                               "    return grads, total\n",
            "scales_in_place_by_assignment": "import numpy as np\ndef clip_grad_norm(grads, max_norm, norm_type=2.0):\n"
                               "    total = float(np.linalg.norm(np.concatenate([np.ravel(g) for g in grads]), norm_type))\n"
                               "    for g in grads:\n        g[...] = g * min(1.0, max_norm / (total + 1e-6))\n"
                               "    return [g.copy() for g in grads], total\n",
        },
        "clip_grad_value": {
            "upper_side_only": "import numpy as np\ndef clip_grad_value(grads, clip_value):\n"
                               "    return [np.minimum(g, clip_value) for g in grads]\n",
            "sign_lost": "import numpy as np\ndef clip_grad_value(grads, clip_value):\n"
                         "    return [np.clip(np.abs(g), 0, clip_value) for g in grads]\n",
            "norm_clipping_instead": "import numpy as np\ndef clip_grad_value(grads, clip_value):\n"
                                     "    return [g * min(1.0, clip_value / (np.linalg.norm(g) + 1e-6)) for g in grads]\n",
            "in_place_returns_none": "import numpy as np\ndef clip_grad_value(grads, clip_value):\n"
                                     "    for g in grads:\n        np.clip(g, -clip_value, clip_value, out=g)\n",
            "in_place_returns_inputs": "import numpy as np\ndef clip_grad_value(grads, clip_value):\n"
                                       "    for g in grads:\n        g[g > clip_value] = clip_value\n"
                                       "        g[g < -clip_value] = -clip_value\n    return grads\n",
        },
        "orthogonal_from": {
            "no_sign_fix": "import numpy as np\ndef orthogonal_from(A, gain=1.0):\n    rows, cols = A.shape\n"
                           "    q, r = np.linalg.qr(A.T if rows < cols else A)\n    return gain * (q.T if rows < cols else q)\n",
            "wide_not_transposed": "import numpy as np\ndef orthogonal_from(A, gain=1.0):\n    q, r = np.linalg.qr(A)\n"
                                   "    return gain * q * np.sign(np.diag(r))\n",
            "gain_ignored": "import numpy as np\ndef orthogonal_from(A, gain=1.0):\n    rows, cols = A.shape\n"
                            "    q, r = np.linalg.qr(A.T if rows < cols else A)\n    q = q * np.sign(np.diag(r))\n"
                            "    return q.T if rows < cols else q\n",
            "sign_fix_on_rows": "import numpy as np\ndef orthogonal_from(A, gain=1.0):\n    rows, cols = A.shape\n"
                                "    q, r = np.linalg.qr(A.T if rows < cols else A)\n    q = np.sign(np.diag(r))[:, None] * q if q.shape[0] == q.shape[1] else q\n"
                                "    return gain * (q.T if rows < cols else q)\n",
        },
        "clipped_descent": {
            "clips_the_step_not_the_gradient": "import numpy as np\nfrom course_lib import cliff\n"
                "def clipped_descent(start, lr, steps, threshold):\n    p = np.array(start, float); pts = [p.copy()]\n"
                "    for _ in range(steps):\n        _, dw, db = cliff.loss_and_grad(p[0], p[1])\n"
                "        (s,), _ = clip_grad_norm([lr * np.array([dw, db])], threshold)\n        p = p - s; pts.append(p.copy())\n"
                "    return np.array(pts)\n",
            "value_clipping": "import numpy as np\nfrom course_lib import cliff\n"
                "def clipped_descent(start, lr, steps, threshold):\n    p = np.array(start, float); pts = [p.copy()]\n"
                "    for _ in range(steps):\n        _, dw, db = cliff.loss_and_grad(p[0], p[1])\n"
                "        p = p - lr * np.clip(np.array([dw, db]), -threshold, threshold); pts.append(p.copy())\n"
                "    return np.array(pts)\n",
            "clipped_but_unused": "import numpy as np\nfrom course_lib import cliff\n"
                "def clipped_descent(start, lr, steps, threshold):\n    p = np.array(start, float); pts = [p.copy()]\n"
                "    for _ in range(steps):\n        _, dw, db = cliff.loss_and_grad(p[0], p[1])\n        g = np.array([dw, db])\n"
                "        clip_grad_norm([g], threshold)\n        p = p - lr * g; pts.append(p.copy())\n"
                "    return np.array(pts)\n",
            "start_not_included": "import numpy as np\nfrom course_lib import cliff\n"
                "def clipped_descent(start, lr, steps, threshold):\n    p = np.array(start, float); pts = []\n"
                "    for _ in range(steps):\n        _, dw, db = cliff.loss_and_grad(p[0], p[1])\n"
                "        (g,), _ = clip_grad_norm([np.array([dw, db])], threshold)\n        p = p - lr * g; pts.append(p.copy())\n"
                "    return np.array(pts)\n",
            "learning_rate_ignored": "import numpy as np\nfrom course_lib import cliff\n"
                "def clipped_descent(start, lr, steps, threshold):\n    p = np.array(start, float); pts = [p.copy()]\n"
                "    for _ in range(steps):\n        _, dw, db = cliff.loss_and_grad(p[0], p[1])\n"
                "        (g,), _ = clip_grad_norm([np.array([dw, db])], threshold)\n        p = p - cliff.LR * g; pts.append(p.copy())\n"
                "    return np.array(pts)\n",
            "start_ignored": "import numpy as np\nfrom course_lib import cliff\n"
                "def clipped_descent(start, lr, steps, threshold):\n    p = np.array(cliff.START, float); pts = [p.copy()]\n"
                "    for _ in range(steps):\n        _, dw, db = cliff.loss_and_grad(p[0], p[1])\n"
                "        (g,), _ = clip_grad_norm([np.array([dw, db])], threshold)\n        p = p - lr * g; pts.append(p.copy())\n"
                "    return np.array(pts)\n",
        },
        "train_adding": {
            "gradients_never_cleared": _TRAIN05.format(**{**_TRAIN05_OK, "clear": "pass"}),
            "clipping_skipped": _TRAIN05.format(**{**_TRAIN05_OK, "clip": "clipped, total = grads, float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))"}),
            "clips_the_step_not_the_gradient": _TRAIN05.format(**{**_TRAIN05_OK, "clip": "clipped, total = clip_grad_norm([lr * g for g in grads], threshold); clipped = [c / lr for c in clipped]"}),
            "one_norm_per_parameter": _TRAIN05.format(**{**_TRAIN05_OK, "clip": "pairs = [clip_grad_norm([g], threshold) for g in grads]; clipped = [c[0][0] for c in pairs]; total = float(np.linalg.norm(np.concatenate([g.ravel() for g in grads])))"}),
            "head_never_updated": _TRAIN05.format(**{**_TRAIN05_OK, "params": "list(model.rnn.parameters())"}),
            "norm_recorded_after_clipping": _TRAIN05.format(**{**_TRAIN05_OK, "record": "float(np.linalg.norm(np.concatenate([np.ravel(c) for c in clipped])))"}),
            "same_batch_every_step": _TRAIN05.format(**{**_TRAIN05_OK, "batch": "x, y = first"}),
            "learning_rate_fixed": _TRAIN05.format(**{**_TRAIN05_OK, "lr": "0.05"}),
        },
    },
}

# ----------------------------------------------------------------------------- 06_lstm_gru
# Built from one correct template each, with one term changed, so every variant differs from the
# solution in exactly the mistake its name says.

_LSTM06 = ("import numpy as np\ndef lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b):\n"
           "    sig = lambda a: 1 / (1 + np.exp(-a))\n"
           "    a_i, a_f, a_c, a_o = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b, 4, axis=1)\n"
           "    i, f, g, o = sig(a_i), sig(a_f), {cand}, sig(a_o)\n"
           "    c_t = {cell}\n    return {hidden}, c_t\n")
_LSTM06_OK = dict(cand="np.tanh(a_c)", cell="f * c_prev + i * g", hidden="o * np.tanh(c_t)")

_GRU06 = ("import numpy as np\ndef gru_step(x_t, h_prev, W_xh, W_hh, b):\n"
          "    sig = lambda a: 1 / (1 + np.exp(-a))\n    H = h_prev.shape[1]\n"
          "    rz = sig(x_t @ W_xh[:2 * H].T + h_prev @ W_hh[:2 * H].T + b[:2 * H])\n"
          "    {rz}\n    h_tilde = np.tanh(x_t @ W_xh[2 * H:].T + {recurrent} + b[2 * H:])\n"
          "    return {mix}\n")
_GRU06_OK = dict(rz="r, z = rz[:, :H], rz[:, H:]", recurrent="(r * h_prev) @ W_hh[2 * H:].T",
                 mix="z * h_prev + (1 - z) * h_tilde")

_LAYER06 = ("import math\nimport torch\nfrom torch import nn\n"
            "class LSTMLayer(nn.Module):\n"
            "    def __init__(self, input_size, hidden_size):\n"
            "        super().__init__()\n        self.hidden_size = hidden_size\n"
            "        p = lambda *s: nn.Parameter(torch.zeros(*s, dtype=torch.float64))\n"
            "        self.weight_ih_l0, self.weight_hh_l0 = p(4 * hidden_size, input_size), p(4 * hidden_size, hidden_size)\n"
            "        self.bias_ih_l0, self.bias_hh_l0 = p(4 * hidden_size), p(4 * hidden_size)\n"
            "    def forward(self, x, state=None):\n"
            "        B = x.shape[0]\n"
            "        z = torch.zeros(B, self.hidden_size, dtype=x.dtype)\n"
            "        h0, c0 = {init}\n        h, c = h0, c0\n        outs = []\n"
            "        for x_t in x.unbind(1):\n"
            "            {carry}\n"
            "            a = x_t @ self.weight_ih_l0.T + self.bias_ih_l0 + h @ self.weight_hh_l0.T{bias_hh}\n"
            "            i, f, g, o = a.chunk(4, dim=1)\n"
            "            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)\n"
            "            c = {cell}\n            h = {hidden}\n            outs.append(h)\n"
            "        return torch.stack(outs, dim=1), {final}\n")
_LAYER06_OK = dict(init="(z, z.clone()) if state is None else (state[0][0], state[1][0])", carry="pass",
                   bias_hh=" + self.bias_hh_l0", cell="f * c + i * g", hidden="o * torch.tanh(c)",
                   final="(h[None], c[None])")

_PEEP06 = ("import numpy as np\ndef peephole_lstm_step(x_t, h_prev, c_prev, W_xh, W_hh, b, w_ci, w_cf, w_co):\n"
           "    sig = lambda a: 1 / (1 + np.exp(-a))\n"
           "    a_i, a_f, a_c, a_o = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b, 4, axis=1)\n"
           "    i, f = {i}, {f}\n"
           "    c_t = f * c_prev + i * np.tanh(a_c)\n"
           "    o = {o}\n    return o * np.tanh(c_t), c_t\n")
_PEEP06_OK = dict(i="sig(a_i + w_ci * c_prev)", f="sig(a_f + w_cf * c_prev)", o="sig(a_o + w_co * c_t)")

_GRADS06 = ("import numpy as np\n"
            "def peephole_grads(x_t, h_prev, c_prev, W_xh, W_hh, b, w_ci, w_cf, w_co, dh_t):\n"
            "    sig = lambda a: 1 / (1 + np.exp(-a))\n"
            "    a_i, a_f, a_c, a_o = np.split(x_t @ W_xh.T + h_prev @ W_hh.T + b, 4, axis=1)\n"
            "    i, f, g = sig(a_i + w_ci * c_prev), sig(a_f + w_cf * c_prev), np.tanh(a_c)\n"
            "    c_t = f * c_prev + i * g\n    o = sig(a_o + w_co * c_t)\n"
            "    d_o = dh_t * np.tanh(c_t) * {do}\n"
            "    d_c = dh_t * o * (1 - np.tanh(c_t) ** 2){second}\n"
            "    d_i, d_f = d_c * g * i * (1 - i), d_c * c_prev * f * (1 - f)\n"
            "    return (d_i * {peek_if}).{red}(axis=0), (d_f * {peek_if}).{red}(axis=0), (d_o * {peek_o}).{red}(axis=0)\n")
_GRADS06_OK = dict(do="o * (1 - o)", second=" + d_o * w_co", peek_if="c_prev", peek_o="c_t", red="sum")

_PATH06 = ("import numpy as np\ndef cell_path_gradient(x, h0, c0, W_xh, W_hh, b):\n"
           "    sig = lambda a: 1 / (1 + np.exp(-a))\n    H = h0.shape[1]\n    h, c = h0, c0\n"
           "    grad = {start}\n    first = None\n"
           "    for t in range(x.shape[1]):\n        a = x[:, t] @ W_xh.T + {hgate} @ W_hh.T + b\n"
           "        forget = {gate}\n        first = forget if first is None else first\n"
           "        grad = {combine}\n        h, c = lstm_step(x[:, t], h, c, W_xh, W_hh, b)\n"
           "    return grad\n")
_PATH06_OK = dict(start="np.ones_like(c0)", hgate="h", gate="sig(a[:, H:2 * H])", combine="grad * forget")

# cell_path_gradient runs the student's lstm_step (as the notebook says): a wrong lstm_step may cost it too.
DEPENDS["06_lstm_gru"] = {"lstm_step": ["cell_path_gradient"]}

VARIANTS["06_lstm_gru"] = {
    "lstm_step": {
        "forget_input_swapped": _LSTM06.format(**{**_LSTM06_OK, "cell": "i * c_prev + f * g"}),
        "tanh_missing_on_cell": _LSTM06.format(**{**_LSTM06_OK, "hidden": "o * c_t"}),
        "sigmoid_candidate": _LSTM06.format(**{**_LSTM06_OK, "cand": "sig(a_c)"}),
        "h_from_old_cell": _LSTM06.format(**{**_LSTM06_OK, "hidden": "o * np.tanh(c_prev)"}),
        "gate_order_i_f_o_c": _LSTM06.format(**{**_LSTM06_OK, "cand": "np.tanh(a_o)", "hidden": "sig(a_c) * np.tanh(c_t)"}),
    },
    "peephole_lstm_step": {
        "o_peeks_at_the_old_cell": _PEEP06.format(**{**_PEEP06_OK, "o": "sig(a_o + w_co * c_prev)"}),
        "f_peephole_forgotten": _PEEP06.format(**{**_PEEP06_OK, "f": "sig(a_f)"}),
        "peepholes_after_the_sigmoid": _PEEP06.format(**{"i": "sig(a_i) + w_ci * c_prev", "f": "sig(a_f) + w_cf * c_prev",
                                                         "o": "sig(a_o) + w_co * c_t"}),
        "peepholes_as_a_product_over_all_cells": _PEEP06.format(**{
            "i": "sig(a_i + (c_prev @ w_ci)[:, None])", "f": "sig(a_f + (c_prev @ w_cf)[:, None])",
            "o": "sig(a_o + (c_t @ w_co)[:, None])"}),
        "i_and_f_peepholes_swapped": _PEEP06.format(**{**_PEEP06_OK, "i": "sig(a_i + w_cf * c_prev)",
                                                        "f": "sig(a_f + w_ci * c_prev)"}),
        "o_peeks_at_tanh_of_the_cell": _PEEP06.format(**{**_PEEP06_OK, "o": "sig(a_o + w_co * np.tanh(c_t))"}),
        "gates_peek_at_h_not_c": _PEEP06.format(**{"i": "sig(a_i + w_ci * h_prev)", "f": "sig(a_f + w_cf * h_prev)",
                                                   "o": "sig(a_o + w_co * h_prev)"}),
        "o_peephole_forgotten": _PEEP06.format(**{**_PEEP06_OK, "o": "sig(a_o)"}),
    },
    "peephole_grads": {
        "second_path_to_the_cell_missing": _GRADS06.format(**{**_GRADS06_OK, "second": ""}),
        "sigma_prime_of_o_missing": _GRADS06.format(**{**_GRADS06_OK, "do": "1"}),
        "w_co_gradient_reads_the_old_cell": _GRADS06.format(**{**_GRADS06_OK, "peek_o": "c_prev"}),
        "w_ci_w_cf_gradients_read_the_new_cell": _GRADS06.format(**{**_GRADS06_OK, "peek_if": "c_t"}),
        "batch_mean_not_sum": _GRADS06.format(**{**_GRADS06_OK, "red": "mean"}),
        "not_summed_over_the_batch": _GRADS06.format(**{**_GRADS06_OK, "red": "cumsum"}),
    },
    "gru_step": {
        "z_and_one_minus_z_swapped": _GRU06.format(**{**_GRU06_OK, "mix": "(1 - z) * h_prev + z * h_tilde"}),
        "reset_after_the_product": _GRU06.format(**{**_GRU06_OK, "recurrent": "r * (h_prev @ W_hh[2 * H:].T)"}),
        "no_reset": _GRU06.format(**{**_GRU06_OK, "recurrent": "h_prev @ W_hh[2 * H:].T"}),
        "r_and_z_blocks_swapped": _GRU06.format(**{**_GRU06_OK, "rz": "z, r = rz[:, :H], rz[:, H:]"}),
    },
    "LSTMLayer": {
        "forget_input_swapped": _LAYER06.format(**{**_LAYER06_OK, "cell": "i * c + f * g"}),
        "tanh_missing_on_cell": _LAYER06.format(**{**_LAYER06_OK, "hidden": "o * c"}),
        "state_not_carried": _LAYER06.format(**{**_LAYER06_OK, "carry": "h, c = h0, c0"}),
        "bias_hh_ignored": _LAYER06.format(**{**_LAYER06_OK, "bias_hh": ""}),
        "given_state_ignored": _LAYER06.format(**{**_LAYER06_OK, "init": "(z, z.clone())"}),
        "h_n_and_c_n_swapped": _LAYER06.format(**{**_LAYER06_OK, "final": "(c[None], h[None])"}),
        "state_detached_every_step": _LAYER06.format(**{**_LAYER06_OK, "carry": "h, c = h.detach(), c.detach()"}),
        "state_kept_between_calls": _LAYER06.format(**{**_LAYER06_OK, "init": "getattr(self, 'last', None) or ((z, z.clone()) if state is None else (state[0][0], state[1][0]))",
                                                       "final": "(h[None], c[None]) if setattr(self, 'last', (h.detach(), c.detach())) is None else None"}),
    },
    "cell_path_gradient": {
        "input_gates_multiplied": _PATH06.format(**{**_PATH06_OK, "gate": "sig(a[:, :H])"}),
        "forget_gates_added": _PATH06.format(**{**_PATH06_OK, "start": "np.zeros_like(c0)", "combine": "grad + forget"}),
        "first_forget_gate_every_step": _PATH06.format(**{**_PATH06_OK, "combine": "grad * (forget if t == 0 else first)"}),
        "first_step_left_out": _PATH06.format(**{**_PATH06_OK, "combine": "grad * forget if t > 0 else grad"}),
        "state_not_carried": _PATH06.format(**{**_PATH06_OK, "hgate": "h0"}),
        "one_minus_forget": _PATH06.format(**{**_PATH06_OK, "gate": "1 - sig(a[:, H:2 * H])"}),
    },
}

# ----------------------------------------------------------------------------- 07_birnn
# One correct template per exercise with one piece changed. birnn_layer uses the notebook's given rnn_layer.
# deep_birnn calls the student's birnn_layer (as the notebook says), so a wrong birnn_layer may cost it too.
DEPENDS["07_birnn"] = {"birnn_layer": ["deep_birnn"]}

_BIRNN07 = ("import numpy as np\ndef birnn_layer(x, lengths, W_f, V_f, b_f, W_b, V_b, b_b):\n"
            "    B, T, _ = x.shape\n"
            "    mask = (np.arange(T)[None, :] < np.asarray(lengths)[:, None])[..., None]\n"
            "    def rev(a):\n        out = a.copy()\n"
            "        for i, n in enumerate(lengths):\n            {rev}\n        return out\n"
            "    fwd = rnn_layer(x, W_f, V_f, b_f){fmask}\n"
            "    bwd = {bwd}{bmask}\n"
            "    return np.concatenate({cat}, axis=-1)\n")
_BIRNN07_OK = dict(rev="out[i, :n] = a[i, :n][::-1]", fmask=" * mask", bmask=" * mask",
                   bwd="rev(rnn_layer(rev(x), W_b, V_b, b_b))", cat="[fwd, bwd]")

_DEEP07 = ("def deep_birnn(x, lengths, layers):\n    h = x\n    outs = []\n"
           "    for params in {order}:\n        h = birnn_layer({inp}, lengths, *params)\n        outs.append(h)\n"
           "    return {ret}\n")
_DEEP07_OK = dict(order="layers", inp="h", ret="h")

_MEAN07 = ("import numpy as np\ndef masked_mean(h, lengths):\n    lengths = np.asarray(lengths)\n"
           "    mask = (np.arange(h.shape[1])[None, :] < {limit})[..., None]\n"
           "    return {result}\n")
_MEAN07_OK = dict(limit="lengths[:, None]", result="(h * mask).sum(axis=1) / lengths[:, None]")

_TAG07 = ("import torch\nimport torch.nn.functional as F\nfrom course_lib import birnn\n"
          "def train_tagger(examples, vocab_size, n_tags, steps, lr=1e-2, seed=0, batch_size=32, embed_dim=64, hidden_size=64):\n"
          "    {seed_first}\n    model = birnn.SequenceTagger(vocab_size, n_tags, embed_dim, hidden_size, bidirectional={bi})\n"
          "    {seed_after}\n    batches = birnn.tagging_batches(examples, batch_size, seed)\n    opt = {opt}\n    losses = []\n"
          "    for _ in range(steps):\n        ids, tags, lengths = next(batches)\n"
          "        logits, _ = model(ids, lengths=lengths)\n        real = tags != -100\n"
          "        loss = {loss}\n        {clear}\n        loss.backward()\n        opt.step()\n"
          "        losses.append(loss.item())\n"
          "    return losses, {{n: p.detach().numpy().copy() for n, p in model.named_parameters()}}\n")
_TAG07_OK = dict(seed_first="torch.manual_seed(seed)", seed_after="pass", bi="True",
                 opt="torch.optim.Adam(model.parameters(), lr=lr)", loss="F.cross_entropy(logits[real], tags[real])",
                 clear="opt.zero_grad()")

VARIANTS["07_birnn"] = {
    "birnn_layer": {
        "backward_not_re_reversed": _BIRNN07.format(**{**_BIRNN07_OK, "bwd": "rnn_layer(rev(x), W_b, V_b, b_b)"}),
        "reversal_includes_pads": _BIRNN07.format(**{**_BIRNN07_OK, "rev": "out[i] = a[i][::-1]"}),
        "backward_uses_forward_weights": _BIRNN07.format(**{**_BIRNN07_OK, "bwd": "rev(rnn_layer(rev(x), W_f, V_f, b_f))"}),
        "backward_reads_left_to_right": _BIRNN07.format(**{**_BIRNN07_OK, "bwd": "rnn_layer(x, W_b, V_b, b_b)"}),
        "pads_not_zeroed": _BIRNN07.format(**{**_BIRNN07_OK, "fmask": "", "bmask": ""}),
        "directions_swapped": _BIRNN07.format(**{**_BIRNN07_OK, "cat": "[bwd, fwd]"}),
        "reversal_drops_the_first_word": _BIRNN07.format(**{**_BIRNN07_OK, "rev": "out[i, :n - 1] = a[i, n - 1:0:-1]"}),
    },
    "deep_birnn": {
        "every_layer_reads_x": _DEEP07.format(**{**_DEEP07_OK, "inp": "x"}),
        "returns_the_first_layer": _DEEP07.format(**{**_DEEP07_OK, "ret": "outs[0]"}),
        "layers_in_reverse_order": _DEEP07.format(**{**_DEEP07_OK, "order": "layers[::-1]"}),
    },
    "masked_mean": {
        "pads_counted_in_the_mean": _MEAN07.format(**{**_MEAN07_OK, "result": "h.mean(axis=1)"}),
        "divides_by_T": _MEAN07.format(**{**_MEAN07_OK, "result": "(h * mask).sum(axis=1) / h.shape[1]"}),
        "one_word_short": _MEAN07.format(**{**_MEAN07_OK, "limit": "lengths[:, None] - 1",
                                            "result": "(h * mask).sum(axis=1) / np.maximum(lengths[:, None] - 1, 1)"}),
        "max_not_mean": _MEAN07.format(**{**_MEAN07_OK, "result": "np.where(mask, h, -np.inf).max(axis=1)"}),
    },
    "train_tagger": {
        "pads_in_the_loss": _TAG07.format(**{**_TAG07_OK, "loss": "F.cross_entropy(logits.flatten(0, 1), tags.clamp(min=0).flatten())"}),
        "mean_of_sentence_means": _TAG07.format(**{**_TAG07_OK, "loss": "torch.stack([F.cross_entropy(logits[b, :n], tags[b, :n]) for b, n in enumerate(lengths.tolist())]).mean()"}),
        "left_to_right_only": _TAG07.format(**{**_TAG07_OK, "bi": "False"}),
        "gradients_never_cleared": _TAG07.format(**{**_TAG07_OK, "clear": "pass"}),
        "plain_sgd_not_adam": _TAG07.format(**{**_TAG07_OK, "opt": "torch.optim.SGD(model.parameters(), lr=lr)"}),
        "learning_rate_fixed": _TAG07.format(**{**_TAG07_OK, "opt": "torch.optim.Adam(model.parameters(), lr=1e-2)"}),
        "embedding_frozen": _TAG07.format(**{**_TAG07_OK, "opt": "torch.optim.Adam([p for n, p in model.named_parameters() if not n.startswith('encoder.embed')], lr=lr)"}),
        "seeded_after_building": _TAG07.format(**{**_TAG07_OK, "seed_first": "pass", "seed_after": "torch.manual_seed(seed)"}),
    },
}

# ----------------------------------------------------------------------------- 09_attention
# One correct template per exercise with one term changed (the mistake the name says).

_MSM09 = ("import numpy as np\ndef masked_softmax(scores, mask=None):\n"
          "    if mask is not None:\n        {fill}\n"
          "    e = np.exp(scores{shift})\n    w = e / e.sum(axis={axis}, keepdims=True)\n"
          "    return {ret}\n")
_MSM09_OK = dict(fill="scores = np.where(mask, scores, -np.inf)", shift=" - scores.max(axis={axis}, keepdims=True)",
                 axis="-1", ret="w")


def _msm09(**changes):
    v = {**_MSM09_OK, **changes}
    v["shift"] = v["shift"].format(axis=v["axis"])
    return _MSM09.format(**v)


_SDPA09 = ("import numpy as np\ndef scaled_dot_product_attention(Q, K, V, mask=None):\n"
           "    d = Q.shape[-1]\n    s = Q @ np.swapaxes(K, -1, -2){scale}\n"
           "    if mask is not None:\n        {fill}\n"
           "    e = np.exp(s - s.max(axis={axis}, keepdims=True))\n    w = e / e.sum(axis={axis}, keepdims=True)\n"
           "    {after}\n    return w @ {values}, w\n")
_SDPA09_OK = dict(scale=" / np.sqrt(d)", fill="s = np.where(mask, s, -np.inf)", axis="-1", after="pass", values="V")

_ADD09 = ("import numpy as np\ndef additive_scores(Q, K, W_q, W_k, w_v):\n"
          "    f = (Q @ W_q.T)[:, :, None, :] + (K @ W_k.T)[:, None, :, :]\n    return {ret}\n")

_SPLIT09 = ("import numpy as np\ndef split_heads(X, num_heads):\n    B, T, C = X.shape\n    return {ret}\n")

_MHA09 = ("import numpy as np\n"
          "def multi_head_attention(query, key, value, W_in, b_in, W_out, b_out, num_heads, valid=None):\n"
          "    B, T_q, C = query.shape\n    h = num_heads\n"
          "    W_q, W_k, W_v = np.split(W_in, 3, axis=0)\n    b_q, b_k, b_v = np.split(b_in, 3)\n"
          "    split = lambda X: {split}\n"
          "    q, k, v = split(query @ W_q.T + b_q), split(key @ W_k.T + b_k), split(value @ W_v.T + b_v)\n"
          "    s = q @ np.swapaxes(k, -1, -2) / np.sqrt({d})\n"
          "    if valid is not None{use_mask}:\n        s = np.where(valid[:, None, None, :], s, -np.inf)\n"
          "    e = np.exp(s - s.max(axis={axis}, keepdims=True))\n    w = e / e.sum(axis={axis}, keepdims=True)\n"
          "    heads = w @ v\n    merged = {merge}\n    return {out}\n")
_MHA09_OK = dict(split="X.reshape(X.shape[0], X.shape[1], h, C // h).transpose(0, 2, 1, 3)", d="C // h",
                 use_mask="", axis="-1", merge="heads.transpose(0, 2, 1, 3).reshape(B, T_q, C)",
                 out="merged @ W_out.T + b_out")

VARIANTS["09_attention"] = {
    "masked_softmax": {
        "mask_after_the_softmax": _msm09(fill="pass", ret="w * mask"),
        "mask_inverted": _msm09(fill="scores = np.where(mask, -np.inf, scores)"),
        "softmax_over_queries": _msm09(axis="-2"),
        "no_max_shift": _msm09(shift=""),
        "max_over_the_whole_array": _msm09(shift=" - scores.max()"),
        "axis_2_not_the_last": _msm09(axis="2"),
    },
    "scaled_dot_product_attention": {
        "no_sqrt_d": _SDPA09.format(**{**_SDPA09_OK, "scale": ""}),
        "divided_by_d": _SDPA09.format(**{**_SDPA09_OK, "scale": " / d"}),
        "mask_after_the_softmax": _SDPA09.format(**{**_SDPA09_OK, "fill": "pass",
                                                    "after": "w = w if mask is None else w * mask"}),
        "softmax_over_queries": _SDPA09.format(**{**_SDPA09_OK, "axis": "-2"}),
        "weights_times_keys": _SDPA09.format(**{**_SDPA09_OK, "values": "K"}),
        "three_axes_only": _SDPA09.replace("np.swapaxes(K, -1, -2)", "K.transpose(0, 2, 1)").format(**_SDPA09_OK),
    },
    "additive_scores": {
        "no_tanh": _ADD09.format(ret="f @ w_v"),
        "tanh_after_w_v": _ADD09.format(ret="np.tanh(f @ w_v)"),
        "w_v_ignored": _ADD09.format(ret="np.tanh(f).sum(-1)"),
        "queries_and_keys_transposed": _ADD09.format(ret="np.swapaxes(np.tanh(f) @ w_v, 1, 2)"),
    },
    "split_heads": {
        "split_along_time": _SPLIT09.format(ret="X.reshape(B, num_heads, T, C // num_heads)"),
        "strided_heads": _SPLIT09.format(ret="X.reshape(B, T, C // num_heads, num_heads).transpose(0, 3, 1, 2)"),
        "heads_axis_not_moved": _SPLIT09.format(ret="X.reshape(B, T, num_heads, C // num_heads)"),
    },
    "multi_head_attention": {
        "sqrt_of_the_full_width": _MHA09.format(**{**_MHA09_OK, "d": "C"}),
        "heads_split_along_time": _MHA09.format(**{**_MHA09_OK, "split": "X.reshape(X.shape[0], h, X.shape[1], C // h)",
                                                   "merge": "heads.reshape(B, T_q, C)"}),
        "softmax_over_queries": _MHA09.format(**{**_MHA09_OK, "axis": "-2"}),
        "padding_ignored": _MHA09.format(**{**_MHA09_OK, "use_mask": " and False"}),
        "no_output_projection": _MHA09.format(**{**_MHA09_OK, "out": "merged"}),
    },
}

_CE08 = ("import numpy as np\ndef masked_cross_entropy(logits, targets, pad_id):\n"
         "    z = logits - logits.max(axis=-1, keepdims=True)\n"
         "    logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))\n"
         "    nll = -np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]\n"
         "    mask = targets != pad_id\n    return {ret}\n")
_GREEDY08 = ("import numpy as np\ndef greedy_decode(params, c, bos_id, eos_id, max_len):\n    p = params\n"
             "    h, prev, out = {h0}, bos_id, []\n    for _ in range(max_len):\n"
             "        h = np.tanh(p['W_xh'] @ p['E'][{inp}] + p['W_hh'] @ h + {ctx}p['b_h'])\n"
             "        prev = int(np.argmax(p['W_hy'] @ h + p['b_y']))\n{stop}")
_GREEDY08_OK = dict(h0="c", inp="prev", ctx="p['W_hc'] @ c + ",
                    stop="        if prev == eos_id:\n            break\n        out.append(prev)\n    return out\n")
_BEAM08 = ("import numpy as np\ndef beam_step(scores, log_probs, beam_size):\n    K, V = log_probs.shape\n"
           "    cand = ({cand}).ravel()\n    best = np.argsort(-cand, kind='stable')[:beam_size]\n"
           "    return {ret}\n")
_BLEU08 = ("import numpy as np\nfrom collections import Counter\ndef sentence_bleu(hypothesis, references, max_n=4):\n"
           "    log_p = 0.0\n    for n in range(1, max_n + 1):\n"
           "        hyp = Counter(tuple(hypothesis[i:i + n]) for i in range(len(hypothesis) - n + 1))\n"
           "        most = Counter()\n        for ref in references:\n"
           "            most {merge} Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))\n"
           "        matched = sum({clip} for g, k in hyp.items())\n        total = sum(hyp.values())\n"
           "        if matched == 0:\n            return 0.0\n        log_p += {mean}\n"
           "    c = len(hypothesis)\n    r = {r}\n    bp = {bp}\n    return float(100 * bp * {geo})\n")
_BLEU08_OK = dict(merge="|=", clip="min(k, most[g])", mean="np.log(matched / total) / max_n",
                  r="min((len(ref) for ref in references), key=lambda L: (abs(L - c), L))",
                  bp="1.0 if c >= r else np.exp(1 - r / c)", geo="np.exp(log_p)")

_BEAMSEARCH08 = ("import numpy as np\ndef beam_search(log_table, bos_id, eos_id, beam_size, max_len, alpha):\n"
                 "    prefixes, scores, finished = [[]], np.zeros(1), []\n"
                 "    for t in range(1, max_len + 1):\n"
                 "        last = [p[-1] if p else bos_id for p in prefixes]\n"
                 "        new_scores, parents, tokens = beam_step(scores, log_table[last], beam_size)\n"
                 "        live, live_scores = [], []\n"
                 "        for s, k, w in zip(new_scores, parents, tokens):\n"
                 "            if {is_eos}:\n                finished.append(({fin}, prefixes[k]))\n"
                 "            else:\n                live.append(prefixes[k] + [int(w)])\n                live_scores.append(s)\n"
                 "        prefixes, scores = live, np.array(live_scores)\n"
                 "        if not prefixes:\n            break\n"
                 "    {at_max}\n"
                 "    best_score, best = max(finished or [(-np.inf, [])], key=lambda f: f[0])\n"
                 "    return list(best), float(best_score)\n")
_BEAMSEARCH08_OK = dict(is_eos="w == eos_id", fin="s / t ** alpha",
                        at_max="finished += [(s / max_len ** alpha, p) for s, p in zip(scores, prefixes)]")
DEPENDS["08_seq2seq"] = {"beam_step": ["beam_search"]}

VARIANTS["08_seq2seq"] = {
    "masked_cross_entropy": {
        "pads_counted": _CE08.format(ret="float(nll.mean())"),
        "divided_by_all_positions": _CE08.format(ret="float((nll * mask).sum() / targets.size)"),
        "mean_of_sentence_means": _CE08.format(ret="float(np.mean((nll * mask).sum(1) / mask.sum(1)))"),
        "sum_not_mean": _CE08.format(ret="float((nll * mask).sum())"),
        "pad_id_taken_to_be_0": _CE08.format(ret="float((nll * (targets != 0)).sum() / (targets != 0).sum())"),
        "no_max_shift": _CE08.replace("    z = logits - logits.max(axis=-1, keepdims=True)\n", "    z = logits\n").format(
            ret="float((nll * mask).sum() / mask.sum())"),
    },
    "greedy_decode": {
        "stops_too_late": _GREEDY08.format(**{**_GREEDY08_OK, "stop": "        out.append(prev)\n"
                                              "        if prev == eos_id:\n            break\n    return out\n"}),
        "never_stops": _GREEDY08.format(**{**_GREEDY08_OK, "stop": "        if prev != eos_id:\n"
                                           "            out.append(prev)\n    return out\n"}),
        "prediction_not_fed_back": _GREEDY08.format(**{**_GREEDY08_OK, "inp": "bos_id"}),
        "context_only_at_the_start": _GREEDY08.format(**{**_GREEDY08_OK, "ctx": ""}),
        "starts_from_zeros": _GREEDY08.format(**{**_GREEDY08_OK, "h0": "np.zeros_like(c)"}),
    },
    "beam_step": {
        "beams_not_reranked": ("import numpy as np\ndef beam_step(scores, log_probs, beam_size):\n"
                               "    tok = log_probs.argmax(axis=1)\n    s = scores + log_probs[np.arange(len(scores)), tok]\n"
                               "    order = np.argsort(-s, kind='stable')[:beam_size]\n"
                               "    return s[order], order, tok[order]\n"),
        "prefix_scores_ignored": _BEAM08.format(cand="log_probs + 0 * scores[:, None]",
                                                ret="(scores[:, None] + log_probs).ravel()[best], best // V, best % V"),
        "parent_index_modulo": _BEAM08.format(cand="scores[:, None] + log_probs", ret="cand[best], best % K, best % V"),
        "ties_broken_backwards": _BEAM08.replace("np.argsort(-cand, kind='stable')[:beam_size]",
                                                 "np.argsort(cand, kind='stable')[::-1][:beam_size]").format(
            cand="scores[:, None] + log_probs", ret="cand[best], best // V, best % V"),
        "worst_first": ("import numpy as np\ndef beam_step(scores, log_probs, beam_size):\n    K, V = log_probs.shape\n"
                        "    cand = (scores[:, None] + log_probs).ravel()\n"
                        "    best = np.argsort(cand, kind='stable')[-beam_size:]\n"
                        "    return cand[best], best // V, best % V\n"),
    },
    "beam_search": {
        "no_length_normalisation": _BEAMSEARCH08.format(**{**_BEAMSEARCH08_OK, "fin": "s", "at_max":
                                                           "finished += [(s, p) for s, p in zip(scores, prefixes)]"}),
        "length_without_the_eos": _BEAMSEARCH08.format(**{**_BEAMSEARCH08_OK, "fin": "s / max(t - 1, 1) ** alpha"}),
        "eos_extended_like_any_token": _BEAMSEARCH08.format(**{**_BEAMSEARCH08_OK, "is_eos": "False"}),
        "unfinished_at_max_len_dropped": _BEAMSEARCH08.format(**{**_BEAMSEARCH08_OK, "at_max": "pass"}),
    },
    "sentence_bleu": {
        "no_brevity_penalty": _BLEU08.format(**{**_BLEU08_OK, "bp": "1.0"}),
        "unclipped_counts": _BLEU08.format(**{**_BLEU08_OK, "clip": "k if most[g] else 0"}),
        "clip_by_sum_over_references": _BLEU08.format(**{**_BLEU08_OK, "merge": "+="}),
        "longest_reference": _BLEU08.format(**{**_BLEU08_OK, "r": "max(len(ref) for ref in references)"}),
        "shortest_reference": _BLEU08.format(**{**_BLEU08_OK, "r": "min(len(ref) for ref in references)"}),
        "closest_tie_to_the_longer": _BLEU08.format(**{**_BLEU08_OK, "r": "min((len(ref) for ref in references), "
                                                                        "key=lambda L: (abs(L - c), -L))"}),
        "zero_precision_skipped": _BLEU08.format(**{**_BLEU08_OK, "mean": "np.log(matched / total) / max_n"}).replace(
            "        if matched == 0:\n            return 0.0\n", "        if matched == 0:\n            continue\n"),
        "arithmetic_mean": _BLEU08.format(**{**_BLEU08_OK, "mean": "(matched / total) / max_n", "geo": "log_p"}),
    },
}

DEPENDS["10_positional_encoding"] = {"add_positions": ["causal_self_attention"],
                                     "causal_mask": ["causal_self_attention"]}

# ----------------------------------------------------------------------------- 10_positional_encoding

_PE10 = ("import numpy as np\ndef sinusoidal_encoding(n, d):\n"
         "    if d % 2:\n        raise ValueError('odd d')\n"
         "    i = np.arange(n)[:, None]\n    j2 = np.arange(0, d, 2)[None, :]\n"
         "    P = np.zeros((n, d))\n    P[:, 0::2] = {even}\n    P[:, 1::2] = {odd}\n    return {ret}\n")
_PE10_OK = dict(even="np.sin(i / 10000 ** (j2 / d))", odd="np.cos(i / 10000 ** (j2 / d))", ret="P")

_ADD10 = ("import numpy as np\ndef add_positions(X, P):\n    B, T, d = X.shape\n    return {ret}\n")

_MASK10 = "import numpy as np\ndef causal_mask(T):\n    return {ret}\n"

_CSA10 = ("import numpy as np\ndef causal_self_attention(X, P, W_q, W_k, W_v):\n"
          "    B, T, d = X.shape\n    H = {H}\n"
          "    Q, K, V = H @ W_q, H @ W_k, H @ W_v\n"
          "    s = Q @ np.swapaxes(K, -1, -2){scale}\n"
          "    s = np.where({mask}, s, -np.inf)\n"
          "    e = np.exp(s - s.max(axis={axis}, keepdims=True))\n    w = e / e.sum(axis={axis}, keepdims=True)\n"
          "    return w @ V, w\n")
_CSA10_OK = dict(H="X * np.sqrt(d) + P[:T]", scale=" / np.sqrt(Q.shape[-1])",
                 mask="np.tril(np.ones((T, T), dtype=bool))", axis="-1")

VARIANTS["10_positional_encoding"] = {
    "sinusoidal_encoding": {
        "sin_cos_swapped": _PE10.format(even="np.cos(i / 10000 ** (j2 / d))", odd="np.sin(i / 10000 ** (j2 / d))",
                                        ret="P"),
        "exponent_j_not_2j": _PE10.format(**{**_PE10_OK, "even": "np.sin(i / 10000 ** (j2 / 2 / d))",
                                             "odd": "np.cos(i / 10000 ** (j2 / 2 / d))"}),
        "odd_column_own_exponent": _PE10.format(**{**_PE10_OK, "odd": "np.cos(i / 10000 ** ((j2 + 1) / d))"}),
        "sines_then_cosines": _PE10.format(**{**_PE10_OK, "ret": "np.concatenate([P[:, 0::2], P[:, 1::2]], axis=1)"}),
        "odd_d_accepted_column_by_column": ("import numpy as np\ndef sinusoidal_encoding(n, d):\n"
                                            "    i, k = np.arange(n)[:, None], np.arange(d)[None, :]\n"
                                            "    angle = i / 10000 ** ((k - k % 2) / d)\n"
                                            "    return np.where(k % 2 == 0, np.sin(angle), np.cos(angle))\n"),
        "positions_from_one": _PE10.format(**{**_PE10_OK, "even": "np.sin((i + 1) / 10000 ** (j2 / d))",
                                              "odd": "np.cos((i + 1) / 10000 ** (j2 / d))"}),
    },
    "add_positions": {
        "no_scale": _ADD10.format(ret="X + P[:T]"),
        "positions_scaled_too": _ADD10.format(ret="(X + P[:T]) * np.sqrt(d)"),
        "scaled_by_d": _ADD10.format(ret="X * d + P[:T]"),
        "scaled_by_sqrt_T": _ADD10.format(ret="X * np.sqrt(T) + P[:T]"),
        "positions_by_batch": _ADD10.format(ret="X * np.sqrt(d) + P[:B, None, :]"),
    },
    "causal_mask": {
        "diagonal_masked": _MASK10.format(ret="np.tril(np.ones((T, T), dtype=bool), -1)"),
        "one_step_ahead": _MASK10.format(ret="np.tril(np.ones((T, T), dtype=bool), 1)"),
        "transposed": _MASK10.format(ret="np.triu(np.ones((T, T), dtype=bool))"),
        "no_mask": _MASK10.format(ret="np.ones((T, T), dtype=bool)"),
        "float_mask": _MASK10.format(ret="np.tril(np.ones((T, T)))"),
        "int_mask": _MASK10.format(ret="np.tril(np.ones((T, T), dtype=int))"),
    },
    "causal_self_attention": {
        "no_mask": _CSA10.format(**{**_CSA10_OK, "mask": "True"}),
        "mask_off_by_one": _CSA10.format(**{**_CSA10_OK, "mask": "np.tril(np.ones((T, T), dtype=bool), 1)"}),
        "no_sqrt_dk": _CSA10.format(**{**_CSA10_OK, "scale": ""}),
        "sqrt_of_d_not_dk": _CSA10.format(**{**_CSA10_OK, "scale": " / np.sqrt(d)"}),
        "softmax_over_queries": _CSA10.format(**{**_CSA10_OK, "axis": "-2"}),
        "positions_ignored": _CSA10.format(**{**_CSA10_OK, "H": "X * np.sqrt(d)"}),
    },
}
