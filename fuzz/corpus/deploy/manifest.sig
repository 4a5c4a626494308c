{
  "schema": "hearth.sig/v1",
  "signatures": [
    {
      "key_id": "d4f258c4c5c2cb58",
      "algorithm": "ed25519",
      "signature": "9c45e3579d967df47ee98015e888f9ac9fd7731adaf71b2772939341f2e2a7a150077d874674941ea1f541d748aa882068f75dd61f718b8452cc2d3165510a0d"
    }
  ]
}
