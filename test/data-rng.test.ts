/**
 * The RandomState port draws exactly NumPy's legacy stream. Reference values come from
 * test/fixtures/data/numpy-fixtures.json, written by make-numpy-fixtures.py beside it.
 */
import { ErrorCodes } from '../lib/errors';
import { RandomState } from '../lib/data/rng';
import { catchTrmError } from './fixtures/data/helpers';
import fixtures from './fixtures/data/numpy-fixtures.json';

describe('RandomState matches numpy.random.RandomState', () => {
  test.each(Object.entries(fixtures.uint32_after_seed))('integer seed %s (init_genrand): raw 32-bit outputs', (seed, values) => {
    const rng = new RandomState(Number(seed));
    expect(values.map(() => rng.nextUint32())).toEqual(values);
  });

  test.each(fixtures.uint32_after_array_seed)('array seed $seed (init_by_array): raw 32-bit outputs', ({ seed, values }) => {
    const rng = new RandomState(seed);
    expect(values.map(() => rng.nextUint32())).toEqual(values);
  });

  test('random_sample: every bit of six doubles', () => {
    const rng = new RandomState(7);
    expect(fixtures.random_sample_seed7.map(() => rng.randomSample())).toEqual(fixtures.random_sample_seed7.map(Number));
  });

  test('legacy randint over mixed ranges, including ranges of one value that draw nothing', () => {
    const rng = new RandomState(3);
    for (const call of fixtures.randint_seed3)
      expect([call.low, call.high, rng.randint(call.low, call.high)]).toEqual([call.low, call.high, call.value]);
  });

  test('3000 draws of randint(0, 8), the ARC transform ids', () => {
    const rng = new RandomState(2024);
    let digits = '';
    for (let i = 0; i < 3000; i++) digits += String(rng.randint(0, 8));
    expect(digits).toBe(fixtures.randint8_seed2024);
  });

  test('shuffle of a list, permutation of an int and of an array, choice without replacement', () => {
    const list = Array.from({ length: 20 }, (_, i) => i);
    new RandomState(11).shuffle(list);
    expect(list).toEqual(fixtures.shuffle_list20_seed11);

    const rng = new RandomState(5);
    expect(Array.from(rng.permutation(9))).toEqual(fixtures.permutation_seed5.perm9);
    expect(rng.permuted([1, 2, 3, 4, 5, 6, 7, 8, 9])).toEqual(fixtures.permutation_seed5.perm_1_to_9);
    expect(Array.from(rng.permutation(3))).toEqual(fixtures.permutation_seed5.perm3);

    expect(Array.from(new RandomState(9).choiceWithoutReplacement(1000, 10))).toEqual(fixtures.choice_1000_10_seed9);
  });

  test('re-seeding restarts the stream', () => {
    const rng = new RandomState(42);
    const first = [rng.nextUint32(), rng.nextUint32()];
    rng.seed(42);
    expect([rng.nextUint32(), rng.nextUint32()]).toEqual(first);
  });

  test('bad seeds and ranges → INVALID_ARGUMENT', () => {
    expect(catchTrmError(() => new RandomState(-1)).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect(catchTrmError(() => new RandomState(2 ** 32)).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect(catchTrmError(() => new RandomState([])).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect(catchTrmError(() => new RandomState(1).randint(5, 5)).code).toBe(ErrorCodes.INVALID_ARGUMENT);
    expect(catchTrmError(() => new RandomState(1).choiceWithoutReplacement(3, 4)).code).toBe(ErrorCodes.INVALID_ARGUMENT);
  });
});
