/** The per-token losses of the language-model head (docs/algorithm.md §2.1, §2.2), computed natively. */
import { native } from './native';
import { toInt32, type Tensor } from './tensor';

/**
 * The label of a position that is not supervised: IGNORE_LABEL_ID of the official models/losses.py
 * (the core's kIgnoreLabel, native/core/ignore_label.h). Datasets store their own ignore_label_id,
 * which the loader maps to this value.
 */
export const IGNORE_LABEL = -100;

/**
 * -log stablemax(logits)[label] per position, in float64 (s(x) = x + 1 for x >= 0, 1/(1 - x) below);
 * 0 where the label is -100. `logits` [..., V] float32, `labels` [...] integers.
 */
export function stablemaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  return native().tokenLoss(logits, toInt32(labels, 'labels'), false);
}

/** Softmax cross-entropy per position in float32, 0 where the label is -100. */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor): Tensor {
  return native().tokenLoss(logits, toInt32(labels, 'labels'), true);
}
