// Package report writes a training run's report directory: PNG plots of
// the loss and accuracy curves and the validation confusion matrix (drawn
// with gonum.org/v1/plot), and an index.html showing them beside the run's
// settings, per-epoch history, per-class metrics and the most confidently
// misclassified items. The page is self-contained apart from the PNGs next
// to it and uses no scripts.
package report
