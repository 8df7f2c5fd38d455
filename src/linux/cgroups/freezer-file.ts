/* The kinds of freezer (v1 freezer.state, v2 cgroup.freeze) as the drivers describe them. */
export type FreezerState = 'thawed' | 'freezing' | 'frozen';

/** One kind of freezer: its control file, the values it takes, and how its state reads. */
export interface FreezerFile {
  file: string;
  frozen: string;
  thawed: string;
  state(dir: string): FreezerState;
}
