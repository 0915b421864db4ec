// tfjs has no stopGradient: a new tensor on the same data (one more reference, as Reshape does)
// that the gradient tape has never seen, so either tensor may be disposed first.
import { engine, type Tensor } from '@tensorflow/tfjs-core';

export function stopGradient<T extends Tensor>(t: T): T {
  engine().backend.incRef(t.dataId);
  return engine().makeTensorFromDataId(t.dataId, t.shape, t.dtype) as T;
}
