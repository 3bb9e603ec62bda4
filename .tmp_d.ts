import { Decoder, Encoder } from "npm:cbor-x@^1.6.9/encode";
console.log(typeof Decoder, typeof Encoder);
