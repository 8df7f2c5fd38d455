/** What a pull reports of each layer, as docker does. */
export type LayerStatus =
  | 'Pulling fs layer'
  | 'Waiting'
  | 'Downloading'
  | 'Retrying'
  | 'Download complete'
  | 'Extracting'
  | 'Pull complete'
  | 'Already exists';

export interface LayerEvent {
  /** the layer blob's digest */
  digest: string;
  status: LayerStatus;
  /** bytes so far, and of how many (Downloading) */
  current?: number;
  total?: number;
}
