import type { A } from './a.ts';
export interface B {
  previous?: A;
}
