/**
 * Choosing the augmented versions of an ARC task (docs/algorithm.md §5.7 step 2): keep the original, then
 * for up to 5·numAug trials draw a dihedral transform and a colour permutation that keeps 0
 * fixed, and keep the version when its puzzle hash is new, until 1 + numAug versions exist.
 * Draws come from the NumPy-compatible RNG in the official order (`randint(0, 8)`, then
 * `permutation(arange(1, 10))`), so a seeded build keeps the official versions.
 */
import { ArcPair, arcPuzzleHash } from './arc-grid';
import { ArcAugmentation } from './arc-names';
import { DihedralId } from './dihedral';
import { RandomState } from './rng';

/** Trials per wanted version before giving up (`ARCAugmentRetriesFactor`). */
export const ARC_AUGMENT_RETRIES_FACTOR = 5;

/** Bytes per version in {@link ArcVersionPlan.codes}: the transform id, then the new colours of 1..9. */
export const ARC_VERSION_CODE_BYTES = 10;

/** The versions kept for one task, packed: version 0 is the original. */
export interface ArcVersionPlan {
  /** Number of versions, the original included. */
  count: number;
  /** `count` × 10 bytes: per version, tid followed by colorMap[1..9] (colorMap[0] = 0). */
  codes: Uint8Array;
}

/** Unpacks version `v` of a plan (version 0 is the identity). */
export function arcVersionAugmentation(plan: ArcVersionPlan, v: number): ArcAugmentation {
  const at = v * ARC_VERSION_CODE_BYTES;
  const colorMap = new Uint8Array(10);
  colorMap.set(plan.codes.subarray(at + 1, at + ARC_VERSION_CODE_BYTES), 1);
  return { tid: plan.codes[at] as DihedralId, colorMap };
}

/** Draws one augmentation like the official `aug()`. */
export function drawArcAugmentation(rng: RandomState): ArcAugmentation {
  const tid = rng.randint(0, 8) as DihedralId;
  const colorMap = new Uint8Array(10);
  rng.permuted([1, 2, 3, 4, 5, 6, 7, 8, 9]).forEach((c, i) => {
    colorMap[i + 1] = c;
  });
  return { tid, colorMap };
}

/**
 * Plans the versions of a task whose examples (all destinations together) are `pairs`.
 * With numAug = 0 nothing is drawn and only the original is kept.
 */
export function planArcVersions(pairs: readonly ArcPair[], numAug: number, rng: RandomState): ArcVersionPlan {
  const codes = new Uint8Array((numAug + 1) * ARC_VERSION_CODE_BYTES);
  for (let c = 1; c <= 9; c++) codes[c] = c;
  let count = 1;
  if (numAug > 0) {
    const seen = new Set<string>([arcPuzzleHash(pairs)]);
    for (let trial = 0; trial < ARC_AUGMENT_RETRIES_FACTOR * numAug; trial++) {
      const aug = drawArcAugmentation(rng);
      const hash = arcPuzzleHash(pairs, aug.tid, aug.colorMap);
      if (!seen.has(hash)) {
        seen.add(hash);
        const at = count * ARC_VERSION_CODE_BYTES;
        codes[at] = aug.tid;
        codes.set(aug.colorMap.subarray(1), at + 1);
        count += 1;
      }
      if (count >= numAug + 1) break;
    }
  }
  return { count, codes: codes.slice(0, count * ARC_VERSION_CODE_BYTES) };
}
