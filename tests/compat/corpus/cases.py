"""The corpus programs and the arguments of their compared runs (small, and without the
randomness the two libraries cannot share: no shuffling, no dropout, no random sampler).
``float64``: run with the default dtype float64 (the program then computes in float64 wherever
it does not ask for float32 itself). ``smoke``: arguments of a second run with the program's
random parts on (shuffling, dropout, the infinite random sampler), which must run and learn
but cannot be compared number for number."""

CASES = {
    "mlp_classifier": {"args": ["--epochs", "2", "--dropout", "0", "--no-shuffle"],
                       "float64": True, "smoke": ["--epochs", "1"]},
    "cnn_digits": {"args": ["--epochs", "1", "--dropout", "0", "--no-shuffle",
                            "--log-interval", "2"], "float64": True,
                   "smoke": ["--epochs", "1", "--dry-run"]},
    "char_lstm": {"args": ["--epochs", "1", "--dropout", "0"], "float64": True},
    "gpt_tiny": {"args": ["--max_iters=6", "--eval_interval=3"], "float64": True},
    "sort_trainer": {"args": ["--max-iters", "8", "--sampler", "sequential"], "float64": True,
                     "smoke": ["--max-iters", "6"]},
    "poly_regression_sgd": {"args": ["--steps", "15"], "float64": True},
    "conv_autoencoder": {"args": ["--epochs", "2", "--no-shuffle"], "float64": True},
    "gru_text_classifier": {"args": ["--epochs", "2", "--dropout", "0", "--no-shuffle"],
                            "float64": True, "smoke": ["--epochs", "1"]},
    "resnet_tiny": {"args": ["--epochs", "2", "--no-shuffle"], "float64": True},
    "transformer_classifier": {"args": ["--epochs", "1", "--dropout", "0"], "float64": True},
    "gan_mlp": {"args": ["--iters", "8"], "float64": True},
    "skipgram": {"args": ["--epochs", "1"], "float64": True},
    "lbfgs_sine": {"args": ["--steps", "1"], "float64": True},
    "logistic_raw": {"args": ["--epochs", "10"], "float64": True},
    "tcn_adding": {"args": ["--epochs", "2"], "float64": True,
                   "smoke": ["--epochs", "1", "--dropout", "0.2"]},
    "sparse_graph_attention": {"args": ["--epochs", "4"], "float64": True},
    "sac_temperature": {"args": ["--updates", "4"], "float64": True},
    "rnn_prealloc": {"args": ["--epochs", "2"], "float64": True},
    "checkpoint_resume": {"args": ["--epochs", "3", "--resume-epochs", "2"], "float64": True},
}
