/**
 * Unit tests of protocol/compression.ts: round trips for every codec, the framings
 * other writers use (raw snappy, LZ4 frames with checksums, content sizes, other
 * block sizes and dependent blocks, as the lz4 command-line tool 1.9.4 writes them),
 * and refusals of corrupt or oversized payloads. Real clients' batches are decoded in
 * batch_codec_test.ts.
 */

import assert from "node:assert/strict";
import snappy from "snappyjs";
import {
  compress,
  Compression,
  compressionByName,
  CompressionError,
  compressionOf,
  decompress,
} from "./compression.ts";

const enc = new TextEncoder();
const decodeBase64 = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const CODECS = [
  Compression.NONE,
  Compression.GZIP,
  Compression.SNAPPY,
  Compression.LZ4,
  Compression.ZSTD,
];

/** Deterministic bytes: compressible text with a pseudo-random tail per line. */
function sample(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 64 < 40 ? 97 + (i % 26) : x >>> 24;
  }
  return out;
}

/** The input of the lz4 CLI frames below. */
function cliInput(): Uint8Array {
  let s = "";
  for (let i = 0; s.length < 70_000; i++) s += `record ${i % 13} `.repeat(40 + (i % 9)) + "\n";
  return enc.encode(s);
}

/** `lz4 OPTIONS in out` (LZ4 CLI 1.9.4) of cliInput(): frame header flags differ in each. */
const LZ4_CLI_FRAMES: [string, string][] = [
  [
    "lz4 -BX -B4",
    "BCJNGHRAvYoIAACfcmVjb3JkIDAgCQD/TRMKYAEUMWkBDwkA/08EcgEUMnIBDwkA/1gEewEUM3sBDwkA/2EEhAEUNIQBDwkA/2oEjQEUNY0BDwkA/3MElgEUNpYBDwkA/3wEnwEUN58BDwkA/4UEqAEUOKgBDwkA/44EsQEUObEBDwkA/0YEaQEVMV8PDwoA/3cFmwEGiA8PCgD/gAWlAQW7Dw8KAP+LBK8BBe4EDwkA/2oEjQEG1gQE7gcPEgD/agSWAQXHBA8JAP98BJ8BD7AU/2EDIBkPCQATBKgBD9QU/2oDsQEPCQATBLEBD/gU/08EaQEPyxT/WARyAQ+eFP9hBHsBD3EU/2oEhAEPRBT/RgNnBw8JABMEjQEPZxT/dwO+AQ+QARgFwwEGpw8PCgD/qAXNAQXnDw/BFP+LBK4DDwoADQTXAQXgAw8JAP+OBLEBBkoFDw0V/0UEaQEFQgMPCQD/TwRyAQ85ExMD4gQPCQD/NAR7AQ8DExMDewEPCQD/PQSEAQ9ZFP9PA78CDwkACgSNAQ99FP9YA5YBDwkACgSWAQ+hFP9hA58BDwkACgSfAQ/FFP9qA6gBDwkACgSoAQ+KExMDUgAPCQD/agSxAQ99ExgDtgEPMgD/RQWRAQaHDw8KAP92BZsBBbAPD6kU/4EEpQEFqAQPCQD/YQSEAQa5BA9KFP9FBIsHD18BCQSNAQW1BA8JAP9zBJYBD2UU/zQDCAMPCQA3BJ8BD4kU/z0DqAEPCQA3BKgBD3ITCgN2AA8JAP9zBLEBD40TCgOxAQ8JAP8rBGkBD1cTCgNpAQ8JAP80BHIBDyETCgNyAQ8JAP89BHsBD0oU///8A2sED6gVDgQ9AxYxUA4PCgD/ngXDAQXcDw+aFP+BBJADDwoADQTNAQXCAw8JAP+FBKgBBi0FD4cTCQT+AQ8kAP9pBLEBBYEDDwkA/0YEaQEPkBM3Az4DDwkA/wcEcgEPWhM3A3IBDwkA/xAEewEPXxT/agSEAQ8yFP8rA/IDDwkALgSNAQ9WFP80A5YBDwkALgSWAQ96FP89A58BDwkALgSfAQ/CFP9qA8wBDwkACgSoAQ9WEw4DTQAPKAD/nwXhAQazDw8KAP9sBZEBBa4PD9wU/3cEmwEF7gQPCQD/WAR7AQacBA9ZFP9gBIQBBZkEDwkA/2oEjQEPIxT/BwORCg8JAFsElgEPRxT/EAOfAQ8JAFsEnwEPvBT/agP5AQ8JAAoEqAEPnBMuA20ADwkA/08EsQEPtxMuA7EBDwkA/wcEaQEPgRMuA2kBDwkA/xAEcgEPJxMKA04BDwkA/z0EewEPVRT/lQWvAQalDw8KAP+UBbkBBdEPD3MU/3cDWQYPkAEOBMMBD5IU/1gDmgEPCQATBJ8BBhAFD78U/2ADsQEPCQAKBKgBBXkDDwkA/44EsQEP5xNbA0sCDwkA2QRpAQ+xE1sDaQEPCQDiBHIBDyoTCgMhAQ8JAP89BHsBDzgU/08DvwIPCQABBIQBDwsU/wcDPAEPCQBSBI0BDy8U/xADlgEPCQBSBJYBD3cU/z0DwwEPCQAuBJ8BD78U/5UD9wEPrgEOBdcBBkoODwoA/7wF4QEF/Q8PfxMOBDwCDwoA/0QEkQEFpAMPCQD/TwRyAQbZBA+wFP9XBHsBBUsEDwkA/2EEhAEP4RPZA8MGDwkAfwSNAQ8FFOIDlgEPCQB/BJYBD3oU/z0D8AEPCQAuBJ8BD1oTAQNkAA8JAP9zBKgBD8YTUgP5AQ8JAP8rBLEBD+ETUgOxAQ8JAOIEaQEPhxMuA0UBDwkA/xAEcgEPAhMOA1IBDygA/2MFpQEGmw8PCgD/igWvAQXGDw9MFP9tBLwEDwoADQS5AQXuBA8JAP9zBJYBBvMED5gU/1cEOQMPcQEJBJ8BBV0DDwkA/4UEqAEP7RN/A2YCDwkA/QSxAQ8IFH8DsQEPCQC1BGkBD4ETLgMYAQ8JAP8QBHIBD48U/2EEewEPERT/KwPpAw8JACUEhAEP5BPiAzwBDwkAdgSNAQ8sFP8QA7oBDwkAUgSWAQ9wFP9jA+kBD3wBNgXNAQZSDg8KAP+yBdcBBfIPD+gU/5UE4AMPCgANBOEBBRIEDwkA/0YEaQEGFgUPchMJBL8BDyQA/yoEcgEFAwMPCQD/WAR7AQ/wE/0D1wMPCQBSBIQBD8MTtQM8AQ8JAKMEjQEPOBT/EAPnAQ8JAFIElgEPpBT/YQPnAQ8JAAoEnwEPhBMlA2QADwkA/08EqAEP8BN2A/kBDwkA/wcEsQEP5xNSA40BDwkA4gRpAQ9nEzYDTQEPUAD/MQWbAQZtDw8KAP+ABaUBBbsPD38U/4sErwEFqAQPCQD/agSNAQbWBA9NFP8qBHkHD0QBLQSWAQXRBA8JAP98BJ8BD6ITUgNUAg8JAP8iBKgBDw4UowP5AQ8JANkEsQEP2BNSA2ABDwkA4gRpAQ9aEwoDIQEPCQD/NARyAQ9oFP9PA7YCBwkABHsBD+oT/wcDMwEPCQBJBIQBD+ET4gNgAQ8JAHYEjQEPIRT/MQPbAQ9KAV4FwwEGdQ4PCgD/qAXNAQXnDw/BFP+LBPQDDwoADQTXAQUmBA8JAP+OBLEBBkoFD8kTLQQrAg9IAPwEaQEFQgMPCQD/TwRyAQ9HFP8iA8UDDwkAJQR7AQ/JE9kDMwEPCQB2BIQBD+0T4gONAQ8JAHYEjQEPWRT/NAPeAQ8JAC4ElgEHORMDWwAPCQD/cwSfAQ+lE0kD8AEPCQD/KwSoAQ/tE3YD1QEPCQD/BwSxAQ/DE14DmQEPeAD+BZEBBj8PDwoA/3YFmwEFsA8PqRT/gQSlAQViBA8JAP9hBIQBBrkEDwIU/AT9Bg8XAVEEjQEFtQQPCQD/cwSWAQ9XEyUDQgIPCQD/RgSfAQ/DE3YD8AEPCQD9BKgBD94TMVBvcmQgNW657gqaAAAAnyByZWNvcmQgNQkA/0UTCmABFDZgAQ8JAP9GBGkBFDdpAQ8JAP9PBHIBFDhyAQ8JAP9YBHsBFDl7AQ8JAP9hBIQBJDEwhQEPCgD/lQW5ARUxuQEPCgD/ngXDARUywwEPCgD/qATNAQVIBQ8JAP+FBKgBBi0FBX0DDwkA/4QEsQEFGwUPCQD/RgRpARQzCAMPCQD/S1BkIDMgCl2qGc0AAAAAnMGJxA==",
  ],
  [
    "lz4 --content-size -B5",
    "BCJNGGxQuBIBAAAAAADKKAkAAJ9yZWNvcmQgMCAJAP9NEwpgARQxaQEPCQD/TwRyARQycgEPCQD/WAR7ARQzewEPCQD/YQSEARQ0hAEPCQD/agSNARQ1jQEPCQD/cwSWARQ2lgEPCQD/fASfARQ3nwEPCQD/hQSoARQ4qAEPCQD/jgSxARQ5sQEPCQD/RgRpARUxXw8PCgD/dwWbAQaIDw8KAP+ABaUBBbsPDwoA/4sErwEF7gQPCQD/agSNAQbWBATuBw8SAP9qBJYBBccEDwkA/3wEnwEPsBT/YQMgGQ8JABMEqAEP1BT/agOxAQ8JABMEsQEP+BT/TwRpAQ/LFP9YBHIBD54U/2EEewEPcRT/agSEAQ9EFP9GA2cHDwkAEwSNAQ9nFP93A74BD5ABGAXDAQanDw8KAP+oBc0BBecPD8EU/4sErgMPCgANBNcBBeADDwkA/44EsQEGSgUPDRX/RQRpAQVCAw8JAP9PBHIBDzkTEwPiBA8JAP80BHsBDwMTEwN7AQ8JAP89BIQBD1kU/08DvwIPCQAKBI0BD30U/1gDlgEPCQAKBJYBD6EU/2EDnwEPCQAKBJ8BD8UU/2oDqAEPCQAKBKgBD4oTEwNSAA8JAP9qBLEBD30TGAO2AQ8yAP9FBZEBBocPDwoA/3YFmwEFsA8PqRT/gQSlAQWoBA8JAP9hBIQBBrkED0oU/0UEiwcPXwEJBI0BBbUEDwkA/3MElgEPZRT/NAMIAw8JADcEnwEPiRT/PQOoAQ8JADcEqAEPchMKA3YADwkA/3MEsQEPjRMKA7EBDwkA/ysEaQEPVxMKA2kBDwkA/zQEcgEPIRMKA3IBDwkA/z0EewEPShT///wDawQPqBUOBD0DFjFQDg8KAP+eBcMBBdwPD5oU/4EEkAMPCgANBM0BBcIDDwkA/4UEqAEGLQUPhxMJBP4BDyQA/2kEsQEFgQMPCQD/RgRpAQ+QEzcDPgMPCQD/BwRyAQ9aEzcDcgEPCQD/EAR7AQ9fFP9qBIQBDzIU/ysD8gMPCQAuBI0BD1YU/zQDlgEPCQAuBJYBD3oU/z0DnwEPCQAuBJ8BD8IU/2oDzAEPCQAKBKgBD1YTDgNNAA8oAP+fBeEBBrMPDwoA/2wFkQEFrg8P3BT/dwSbAQXuBA8JAP9YBHsBBpwED1kU/2AEhAEFmQQPCQD/agSNAQ8jFP8HA5EKDwkAWwSWAQ9HFP8QA58BDwkAWwSfAQ+8FP9qA/kBDwkACgSoAQ+cEy4DbQAPCQD/TwSxAQ+3Ey4DsQEPCQD/BwRpAQ+BEy4DaQEPCQD/EARyAQ8nEwoDTgEPCQD/PQR7AQ9VFP+VBa8BBqUPDwoA/5QFuQEF0Q8PcxT/dwNZBg+QAQ4EwwEPkhT/WAOaAQ8JABMEnwEGEAUPvxT/YAOxAQ8JAAoEqAEFeQMPCQD/jgSxAQ/nE1sDSwIPCQDZBGkBD7ETWwNpAQ8JAOIEcgEPKhMKAyEBDwkA/z0EewEPOBT/TwO/Ag8JAAEEhAEPCxT/BwM8AQ8JAFIEjQEPLxT/EAOWAQ8JAFIElgEPdxT/PQPDAQ8JAC4EnwEPvxT/lQP3AQ+uAQ4F1wEGSg4PCgD/vAXhAQX9Dw9/Ew4EPAIPCgD/RASRAQWkAw8JAP9PBHIBBtkED7AU/1cEewEFSwQPCQD/YQSEAQ/hE9kDwwYPCQB/BI0BDwUU4gOWAQ8JAH8ElgEPehT/PQPwAQ8JAC4EnwEPWhMBA2QADwkA/3MEqAEPxhNSA/kBDwkA/ysEsQEP4RNSA7EBDwkA4gRpAQ+HEy4DRQEPCQD/EARyAQ8CEw4DUgEPKAD/YwWlAQabDw8KAP+KBa8BBcYPD0wU/20EvAQPCgANBLkBBe4EDwkA/3MElgEG8wQPmBT/VwQ5Aw9xAQkEnwEFXQMPCQD/hQSoAQ/tE38DZgIPCQD9BLEBDwgUfwOxAQ8JALUEaQEPgRMuAxgBDwkA/xAEcgEPjxT/YQR7AQ8RFP8rA+kDDwkAJQSEAQ/kE+IDPAEPCQB2BI0BDywU/xADugEPCQBSBJYBD3AU/2MD6QEPfAE2Bc0BBlIODwoA/7IF1wEF8g8P6BT/lQTgAw8KAA0E4QEFEgQPCQD/RgRpAQYWBQ9yEwkEvwEPJAD/KgRyAQUDAw8JAP9YBHsBD/AT/QPXAw8JAFIEhAEPwxO1AzwBDwkAowSNAQ84FP8QA+cBDwkAUgSWAQ+kFP9hA+cBDwkACgSfAQ+EEyUDZAAPCQD/TwSoAQ/wE3YD+QEPCQD/BwSxAQ/nE1IDjQEPCQDiBGkBD2cTNgNNAQ9QAP8xBZsBBm0PDwoA/4AFpQEFuw8PfxT/iwSvAQWoBA8JAP9qBI0BBtYED00U/yoEeQcPRAEtBJYBBdEEDwkA/3wEnwEPohNSA1QCDwkA/yIEqAEPDhSjA/kBDwkA2QSxAQ/YE1IDYAEPCQDiBGkBD1oTCgMhAQ8JAP80BHIBD2gU/08DtgIHCQAEewEP6hP/BwMzAQ8JAEkEhAEP4RPiA2ABDwkAdgSNAQ8hFP8xA9sBD0oBXgXDAQZ1Dg8KAP+oBc0BBecPD8EU/4sE9AMPCgANBNcBBSYEDwkA/44EsQEGSgUPyRMtBCsCD0gA/ARpAQVCAw8JAP9PBHIBD0cU/yIDxQMPCQAlBHsBD8kT2QMzAQ8JAHYEhAEP7RPiA40BDwkAdgSNAQ9ZFP80A94BDwkALgSWAQc5EwNbAA8JAP9zBJ8BD6UTSQPwAQ8JAP8rBKgBD+0TdgPVAQ8JAP8HBLEBD8MTXgOZAQ94AP4FkQEGPw8PCgD/dgWbAQWwDw+pFP+BBKUBBWIEDwkA/2EEhAEGuQQPAhT8BP0GDxcBUQSNAQW1BA8JAP9zBJYBD1cTJQNCAg8JAP9GBJ8BD8MTdgPwAQ8JAP0EqAEP3hN2A6gBDwkA/wcEsQEPsRMuA2kBDwkA/wcEaQEPvxT/WARyAQ9BFP8rA9cDDwkAHAR7AQ/nE/8HA1cBDwkASQSEAQ/SE/4DfAEPGAGGBbkBBpgODwoA/54FwwEF3A8PmhT/gQQIBA8KAA0EzQEFOgQPCQD/hQSoAQYtBQ/PE1EERgIPbAD/IQSxAQWBAw8JAP9GBGkBD54U/0YDBAQDCQBQZCAzIAoAAAAAnMGJxA==",
  ],
  [
    "lz4 -BD -B4 --no-frame-crc",
    "BCJNGEBAwIoIAACfcmVjb3JkIDAgCQD/TRMKYAEUMWkBDwkA/08EcgEUMnIBDwkA/1gEewEUM3sBDwkA/2EEhAEUNIQBDwkA/2oEjQEUNY0BDwkA/3MElgEUNpYBDwkA/3wEnwEUN58BDwkA/4UEqAEUOKgBDwkA/44EsQEUObEBDwkA/0YEaQEVMV8PDwoA/3cFmwEGiA8PCgD/gAWlAQW7Dw8KAP+LBK8BBe4EDwkA/2oEjQEG1gQE7gcPEgD/agSWAQXHBA8JAP98BJ8BD7AU/2EDIBkPCQATBKgBD9QU/2oDsQEPCQATBLEBD/gU/08EaQEPyxT/WARyAQ+eFP9hBHsBD3EU/2oEhAEPRBT/RgNnBw8JABMEjQEPZxT/dwO+AQ+QARgFwwEGpw8PCgD/qAXNAQXnDw/BFP+LBK4DDwoADQTXAQXgAw8JAP+OBLEBBkoFDw0V/0UEaQEFQgMPCQD/TwRyAQ85ExMD4gQPCQD/NAR7AQ8DExMDewEPCQD/PQSEAQ9ZFP9PA78CDwkACgSNAQ99FP9YA5YBDwkACgSWAQ+hFP9hA58BDwkACgSfAQ/FFP9qA6gBDwkACgSoAQ+KExMDUgAPCQD/agSxAQ99ExgDtgEPMgD/RQWRAQaHDw8KAP92BZsBBbAPD6kU/4EEpQEFqAQPCQD/YQSEAQa5BA9KFP9FBIsHD18BCQSNAQW1BA8JAP9zBJYBD2UU/zQDCAMPCQA3BJ8BD4kU/z0DqAEPCQA3BKgBD3ITCgN2AA8JAP9zBLEBD40TCgOxAQ8JAP8rBGkBD1cTCgNpAQ8JAP80BHIBDyETCgNyAQ8JAP89BHsBD0oU///8A2sED6gVDgQ9AxYxUA4PCgD/ngXDAQXcDw+aFP+BBJADDwoADQTNAQXCAw8JAP+FBKgBBi0FD4cTCQT+AQ8kAP9pBLEBBYEDDwkA/0YEaQEPkBM3Az4DDwkA/wcEcgEPWhM3A3IBDwkA/xAEewEPXxT/agSEAQ8yFP8rA/IDDwkALgSNAQ9WFP80A5YBDwkALgSWAQ96FP89A58BDwkALgSfAQ/CFP9qA8wBDwkACgSoAQ9WEw4DTQAPKAD/nwXhAQazDw8KAP9sBZEBBa4PD9wU/3cEmwEF7gQPCQD/WAR7AQacBA9ZFP9gBIQBBZkEDwkA/2oEjQEPIxT/BwORCg8JAFsElgEPRxT/EAOfAQ8JAFsEnwEPvBT/agP5AQ8JAAoEqAEPnBMuA20ADwkA/08EsQEPtxMuA7EBDwkA/wcEaQEPgRMuA2kBDwkA/xAEcgEPJxMKA04BDwkA/z0EewEPVRT/lQWvAQalDw8KAP+UBbkBBdEPD3MU/3cDWQYPkAEOBMMBD5IU/1gDmgEPCQATBJ8BBhAFD78U/2ADsQEPCQAKBKgBBXkDDwkA/44EsQEP5xNbA0sCDwkA2QRpAQ+xE1sDaQEPCQDiBHIBDyoTCgMhAQ8JAP89BHsBDzgU/08DvwIPCQABBIQBDwsU/wcDPAEPCQBSBI0BDy8U/xADlgEPCQBSBJYBD3cU/z0DwwEPCQAuBJ8BD78U/5UD9wEPrgEOBdcBBkoODwoA/7wF4QEF/Q8PfxMOBDwCDwoA/0QEkQEFpAMPCQD/TwRyAQbZBA+wFP9XBHsBBUsEDwkA/2EEhAEP4RPZA8MGDwkAfwSNAQ8FFOIDlgEPCQB/BJYBD3oU/z0D8AEPCQAuBJ8BD1oTAQNkAA8JAP9zBKgBD8YTUgP5AQ8JAP8rBLEBD+ETUgOxAQ8JAOIEaQEPhxMuA0UBDwkA/xAEcgEPAhMOA1IBDygA/2MFpQEGmw8PCgD/igWvAQXGDw9MFP9tBLwEDwoADQS5AQXuBA8JAP9zBJYBBvMED5gU/1cEOQMPcQEJBJ8BBV0DDwkA/4UEqAEP7RN/A2YCDwkA/QSxAQ8IFH8DsQEPCQC1BGkBD4ETLgMYAQ8JAP8QBHIBD48U/2EEewEPERT/KwPpAw8JACUEhAEP5BPiAzwBDwkAdgSNAQ8sFP8QA7oBDwkAUgSWAQ9wFP9jA+kBD3wBNgXNAQZSDg8KAP+yBdcBBfIPD+gU/5UE4AMPCgANBOEBBRIEDwkA/0YEaQEGFgUPchMJBL8BDyQA/yoEcgEFAwMPCQD/WAR7AQ/wE/0D1wMPCQBSBIQBD8MTtQM8AQ8JAKMEjQEPOBT/EAPnAQ8JAFIElgEPpBT/YQPnAQ8JAAoEnwEPhBMlA2QADwkA/08EqAEP8BN2A/kBDwkA/wcEsQEP5xNSA40BDwkA4gRpAQ9nEzYDTQEPUAD/MQWbAQZtDw8KAP+ABaUBBbsPD38U/4sErwEFqAQPCQD/agSNAQbWBA9NFP8qBHkHD0QBLQSWAQXRBA8JAP98BJ8BD6ITUgNUAg8JAP8iBKgBDw4UowP5AQ8JANkEsQEP2BNSA2ABDwkA4gRpAQ9aEwoDIQEPCQD/NARyAQ9oFP9PA7YCBwkABHsBD+oT/wcDMwEPCQBJBIQBD+ET4gNgAQ8JAHYEjQEPIRT/MQPbAQ9KAV4FwwEGdQ4PCgD/qAXNAQXnDw/BFP+LBPQDDwoADQTXAQUmBA8JAP+OBLEBBkoFD8kTLQQrAg9IAPwEaQEFQgMPCQD/TwRyAQ9HFP8iA8UDDwkAJQR7AQ/JE9kDMwEPCQB2BIQBD+0T4gONAQ8JAHYEjQEPWRT/NAPeAQ8JAC4ElgEHORMDWwAPCQD/cwSfAQ+lE0kD8AEPCQD/KwSoAQ/tE3YD1QEPCQD/BwSxAQ/DE14DmQEPeAD+BZEBBj8PDwoA/3YFmwEFsA8PqRT/gQSlAQViBA8JAP9hBIQBBrkEDwIU/AT9Bg8XAVEEjQEFtQQPCQD/cwSWAQ9XEyUDQgIPCQD/RgSfAQ/DE3YD8AEPCQD9BKgBD94TMVBvcmQgNaAAAAAEaQEPUQD/RgSxAQ+xEy4DqAEPCQD/BwRpAQ+/FP9YBHIBD0EU/ysD1wMPCQAcBHsBD+cT/wcDVwEPCQBJBIQBD9IT/gN8AQ8YAYYFuQEGmA4PCgD/ngXDAQXcDw+aFP+BBAgEDwoADQTNAQU6BA8JAP+FBKgBBi0FBD0ODxIA/4UEsQEFgQMPCQD/RgRpAQ+eFP9GA0oGAwkAUGQgMyAKAAAAAA==",
  ],
  [
    "lz4 -BX --content-size -B4 -9",
    "BCJNGHxAuBIBAAAAAADSogIAAJ9yZWNvcmQgMCAJAP9NEwoKAC8xIAkA/1YEcgEvMiAJAP9fBHsBLzMgCQD/aASEAS80IAkA/3EEjQEvNSAJAP96BJYBLzYgCQD/gwSfAS83IAkA/4wEqAEvOCAJAP+VBLEBLzkgCQD/TQX1DS8wIAoA/34FmwEvMSAKAP+IBaUBLzIgCgD/kh8KTRQRD3EU/3sPlRT/hA+5FP+ND90U////AA8BFf97HwqnFP9gD3oU///tD00UEg9xFP9/D5kU/7EPwRT///9DD+kUOg8NFf//5B8KsxT//9sfClop////AB8KSCn/hA8/Kf///zYP6RQSDw0V////DR8KqRT///8vHwpXKf///wAfCkUp/4QPPCn///82DzQ+CQ9PPv//7R8KpBT//9sfClcp////LB8KQyn///9/DzkpCQ89Pv///xIPChX/ch8KsBT//9sfClQp////AB8KQin/hA85Kf+oDz0+/5kPWz7///9DHwqqFP///wUfClop////AB8KSCn/hA8/Kf///zYPhWcAD5dn///2HwqqFP//2x8KWSn/nQ9PKf///2sfCjwp////Ng+LZxIPBxX//+QfCq0U///bHwpXKf///wAfCkUp/4QPPCn/oQ+NZ////38PDxUCD90U///xHwqDFP//7R8KVCn///8SHwpCKf///zYP0JAAD5pn///2HwqwFP///wYfClsp////Vx8KSCn/hA8/Kf///zYP05AAD6Bn///2HwqqFP//2x8KWin///8AHwpIKf+EDz4p////kw/VkBYPEBX/pw8Vuv////////////////////////////////////////////////////////////////////////////////////////////8ZUG9yZCA18cqmdoMAAACfIHJlY29yZCA1CQD/RRMKCgAvNiAJAP9NBGkBLzcgCQD/VgRyAS84IAkA/18EewEvOSAJAP9oBIQBPzEwIAoA/5wFuQEvMSAKAP+mBcMBLzIgCgD/sATNAS8wIAkA/4wFdQMfIAkA/5UEsQEvMiAJAP9NBGkBLzMgCQD/UlBkIDMgCml1vXQAAAAAnMGJxA==",
  ],
];

Deno.test("every codec round trips empty, small, block-straddling and 1 MiB payloads", () => {
  const sizes = [0, 1, 100, 32 * 1024, 32 * 1024 + 1, 64 * 1024, 64 * 1024 + 1, 1 << 20];
  for (const codec of CODECS) {
    for (const size of sizes) {
      const data = sample(size, size + codec);
      const packed = compress(codec, data);
      assert.deepEqual(decompress(codec, packed), data, `codec ${codec}, ${size} bytes`);
    }
  }
});

Deno.test("compress writes each codec as Kafka's Java producer does", async (t) => {
  const data = sample(100_000);
  await t.step("gzip: a gzip member", () => {
    const c = compress(Compression.GZIP, data);
    assert.deepEqual([...c.subarray(0, 3)], [0x1f, 0x8b, 8]);
  });
  await t.step("zstd: a zstd frame", () => {
    const c = compress(Compression.ZSTD, data, { level: 3 });
    assert.deepEqual([...c.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd]);
  });
  await t.step("snappy: xerial framing, version 1, blocks of at most 32 KiB input", () => {
    const c = compress(Compression.SNAPPY, data);
    assert.deepEqual([...c.subarray(0, 16)], [
      0x82,
      0x53,
      0x4e,
      0x41,
      0x50,
      0x50,
      0x59,
      0,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      1,
    ]);
    const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
    let blocks = 0;
    for (let p = 16; p < c.length; blocks++) {
      const len = v.getInt32(p);
      const block = snappy.uncompress(c.subarray(p + 4, p + 4 + len)) as Uint8Array;
      assert.ok(block.length <= 32 * 1024);
      p += 4 + len;
    }
    assert.equal(blocks, Math.ceil(data.length / (32 * 1024)));
  });
  await t.step("lz4: a frame of independent 64 KiB blocks, no checksums, valid header", () => {
    const c = compress(Compression.LZ4, data);
    // Magic, FLG 0x60 (v1, independent blocks), BD 0x40 (64 KiB), HC 0x82.
    assert.deepEqual([...c.subarray(0, 7)], [0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82]);
    assert.deepEqual([...c.subarray(c.length - 4)], [0, 0, 0, 0]);
  });
  await t.step("lz4: an incompressible block is stored raw", () => {
    const noise = new Uint8Array(1000);
    let x = 7;
    for (let i = 0; i < noise.length; i++) noise[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    const c = compress(Compression.LZ4, noise);
    const word = new DataView(c.buffer, c.byteOffset).getUint32(7, true);
    assert.equal(word, (0x80000000 | 1000) >>> 0);
    assert.deepEqual(decompress(Compression.LZ4, c), noise);
  });
  await t.step("none: the bytes as they are", () => {
    assert.equal(compress(Compression.NONE, data), data);
    assert.equal(decompress(Compression.NONE, data), data);
  });
});

Deno.test("snappy reads a raw snappy block (librdkafka, kafkajs) as well as xerial", () => {
  const data = sample(50_000);
  assert.deepEqual(decompress(Compression.SNAPPY, snappy.compress(data) as Uint8Array), data);
});

Deno.test("lz4 reads frames with block and content checksums, content sizes, dependent blocks", () => {
  const input = cliInput();
  for (const [name, b64] of LZ4_CLI_FRAMES) {
    assert.deepEqual(decompress(Compression.LZ4, decodeBase64(b64)), input, name);
  }
  // Two frames back to back, a skippable frame between them.
  const one = compress(Compression.LZ4, enc.encode("first "));
  const two = compress(Compression.LZ4, enc.encode("second"));
  const skip = Uint8Array.of(0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9);
  const joined = new Uint8Array([...one, ...skip, ...two]);
  assert.equal(new TextDecoder().decode(decompress(Compression.LZ4, joined)), "first second");
});

Deno.test("corrupt payloads are refused with a CompressionError", () => {
  const data = sample(10_000);
  for (const codec of [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD]) {
    const packed = compress(codec, data);
    const cut = packed.subarray(0, Math.floor(packed.length / 2));
    assert.throws(() => decompress(codec, cut), CompressionError, `codec ${codec} cut short`);
  }
  assert.throws(
    () => decompress(Compression.LZ4, enc.encode("not an lz4 frame")),
    CompressionError,
  );
  assert.throws(() => decompress(Compression.GZIP, enc.encode("not gzip")), CompressionError);
  assert.throws(() => decompress(Compression.ZSTD, enc.encode("not zstd")), CompressionError);
  assert.throws(() => decompress(5, data), /codec 5 is unknown/);
  assert.throws(() => compress(7, data), /codec 7 is unknown/);
});

Deno.test("decompression stops at the size limit it is given", () => {
  const data = new Uint8Array(1 << 20); // zeros: a tiny payload that grows to 1 MiB
  for (const codec of [Compression.GZIP, Compression.SNAPPY, Compression.LZ4, Compression.ZSTD]) {
    const packed = compress(codec, data);
    assert.throws(() => decompress(codec, packed, 100_000), CompressionError, `codec ${codec}`);
    assert.equal(decompress(codec, packed, 1 << 20).length, 1 << 20);
  }
});

Deno.test("codec ids come from attributes bits 0-2 and from compression.type names", () => {
  assert.equal(compressionOf(0x0013), Compression.LZ4);
  assert.equal(compressionOf(0x0024), Compression.ZSTD);
  assert.equal(compressionByName("snappy"), Compression.SNAPPY);
  assert.equal(compressionByName("ZSTD"), Compression.ZSTD);
  assert.throws(() => compressionByName("brotli"), /"brotli" is unknown/);
});
