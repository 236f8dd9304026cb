// Decoding the server's "weights" live message (docs/api.md):
// data = base64 of int8 bytes, len(neurons) * 784, row-major per neuron; value = int8 / 127 * scale.

/** Return the bytes of a base64 string as a Uint8Array (throws on malformed input). */
export function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Return {step, neurons, width, height, scale, maps}: maps[k] is an Int8Array (height * width)
 * for neurons[k]. Throws an Error that says what is wrong if the message does not fit the contract.
 */
export function decodeWeights(msg) {
  const neurons = Array.isArray(msg?.neurons) ? msg.neurons : null;
  const shape = Array.isArray(msg?.shape) && msg.shape.length === 2 ? msg.shape : null;
  if (!neurons || !shape || typeof msg.data !== "string") {
    throw new Error("weights message needs neurons[], shape [h, w] and base64 data");
  }
  const [height, width] = shape;
  const bytes = base64ToBytes(msg.data);
  const size = height * width;
  if (bytes.length !== neurons.length * size) {
    throw new Error(`weights message holds ${bytes.length} bytes, expected ${neurons.length} x ${size}`);
  }
  const all = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  const maps = neurons.map((_, k) => all.subarray(k * size, (k + 1) * size));
  const scale = Number.isFinite(msg.scale) ? msg.scale : 0;
  return { step: msg.step ?? null, neurons, width, height, scale, maps };
}

/** Return the real weight that an int8 code stands for. */
export function weightValue(code, scale) {
  return (code / 127) * scale;
}

/**
 * Return the |code| at quantile q of one neuron's map (at least 1): the colour range that shows
 * its pattern. A few large weights at the digit's edge would otherwise wash every picture out.
 */
export function robustRange(codes, q = 0.98) {
  const counts = new Uint32Array(129);
  for (let i = 0; i < codes.length; i++) counts[Math.min(128, Math.abs(codes[i]))] += 1;
  const target = q * codes.length;
  let seen = 0;
  for (let v = 0; v <= 128; v++) {
    seen += counts[v];
    if (seen >= target) return Math.max(1, v);
  }
  return 128;
}
