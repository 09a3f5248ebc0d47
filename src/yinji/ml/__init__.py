"""Joint modeling: secret-shared LR on the MPC engine (sslr), vertical SecureBoost
(secureboost), boosted trees trained and evaluated on secret-shared rows (mpc_boost),
horizontal FedAvg with secure aggregation (fedavg, secagg), model registry and
joint inference (registry), plaintext metrics at the result recipient (metrics).

Layering: imports only yinji.crypto, yinji.net and yinji.mpc; a hidden-intersection join's
output is passed in as a `SharedTensor`.
"""
