import { describe, expect, it } from '@jest/globals';
import { manifestFactory } from './model-manifest.factory.js';
import { rankingOutputsOf } from './model-manifest.js';

describe(rankingOutputsOf.name, () => {
  it('reads p_ctr and p_cvr from a model trained before the hide head', () => {
    expect(rankingOutputsOf(manifestFactory())).toEqual({ pCtr: 'p_ctr', pCvr: 'p_cvr' });
  });

  it('reads p_hide too when the manifest lists it', () => {
    const sut = manifestFactory();
    sut.outputs.push({ name: 'p_hide', dtype: 'float32', shape: ['N'] });

    expect(rankingOutputsOf(sut)).toEqual({ pCtr: 'p_ctr', pCvr: 'p_cvr', pHide: 'p_hide' });
  });
});
