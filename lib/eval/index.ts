/**
 * Evaluation: the exact-accuracy loop of docs/algorithm.md §6.1 and the ARC voting evaluator of §6.2.
 */
export { evaluateExact } from './exact';
export type { BatchEvaluator, EvalBatchView, EvaluateExactOptions, ExactEvalProgress, ExactEvalResult } from './exact';
export { EVAL_METRIC_KEYS, addMetricSums, emptyMetricSums, reduceSetMetrics } from './metrics';
export type { MetricSums, SetMetrics } from './metrics';
export { ArcEvaluator, DEFAULT_PASS_KS } from './arc';
export type { ArcEvaluatorOptions, ArcVoteSnapshot } from './arc';
export { scoreArcVotes, writeArcSubmission } from './arc-result';
export type { ArcEvalResult, ArcInputScore, ArcSubmission, ArcSubmissionEntry, ArcTaskScore } from './arc-result';
export { VoteTally, sigmoid } from './arc-vote';
export type { RankedCandidate, VoteStats } from './arc-vote';
