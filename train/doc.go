// Package train also documents its contract here (data.go holds the
// one-line summary and the Dataset interface).
//
// # Training
//
// Run(ctx, cfg, trainDS, validDS, hooks...) builds the head described by
// cfg.Head, streams mini-batches from trainDS (one batch of prefetch, so
// only about two batches of features are in memory), and after every epoch
// validates on validDS, reports an "epoch" Event to the hooks and, with
// cfg.RunDir, writes a checkpoint:
//
//	RUN/checkpoint.safetensors  trainable parameters, buffers, optimizer state
//	                            ("optim.<param>.momentum_buffer", ".exp_avg", ...),
//	                            metadata "preconv.head" (head.Description) and
//	                            "preconv.train" (Checkpoint JSON, authoritative)
//	RUN/checkpoint.json         the same Checkpoint, indented, for people
//	RUN/frozen.safetensors      frozen parameters, written once
//	RUN/best.safetensors        best epoch's weights (EarlyStop.RestoreBest)
//
// With cfg.Resume, Run continues after the last completed epoch; the result
// equals an uninterrupted run bit for bit (data order depends only on
// (Seed, epoch), dropout masks on the step counter). A checkpoint whose
// provenance (cfg.Provenance, compared as JSON values) or class list differs
// is refused with ErrProvenance.
//
// # Numerics
//
// Optimizers follow torch.optim exactly (SGD with momentum/Nesterov/weight
// decay, Adam, AdamW); schedules follow torch.optim.lr_scheduler (StepLR and
// CosineAnnealingLR stepped per epoch, OneCycleLR per batch with momentum
// cycling). testdata/gen_parity.py produces the PyTorch fixtures the tests
// compare against (losses of 100 steps within 1e-4).
//
// # Frozen layers
//
// Leading frozen layers that act the same in training and eval mode
// (Linear, ReLU) are computed on super-batches of 512 items, which gives
// the same numbers faster. With cfg.Fold, the whole frozen prefix is
// computed once per split in eval mode (so dropout or batch statistics
// inside it no longer act; Run warns) into a derived dataset held in RAM up
// to cfg.FoldMemLimit bytes, else in a float32 temp file.
//
// # Bad input
//
// Empty datasets, labels outside the class list, class lists or feature
// shapes that differ between splits, and NaN/Inf features fail with ErrData
// naming the item; with cfg.SkipBadItems, NaN/Inf items are skipped with a
// warning. A class without validation items is a warning.
package train
