/** The per-token losses of the language-model head (SPEC.md §2.1, §2.2), computed natively. */
import { native } from './native';
import { toInt32, type Tensor } from './tensor';

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
