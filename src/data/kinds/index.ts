// Importing this module registers every dataset kind. Order matters only for detection:
// builtin names first, then two-folder sources, then label-map folders; labelled is the fallback.
import './builtin.js';
import './unpaired.js';
import './labelmap.js';
import './paired.js';
import './labelled.js';

export { openDataset, kindNames, pickKind, registerKind } from '../registry.js';
export type { Dataset, DatasetKind, Decoder, ImageList, OpenOptions, Source } from '../registry.js';
