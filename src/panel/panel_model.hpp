// The RI-CLPM (Hamaker, Kuiper & Grasman 2015, eqs. 1-3) and the CLPM as a map from
// the free parameters to the implied mean vector and covariance matrix of the wide data,
// with the chain rule that turns dlogL/dSigma into dlogL/dparameters.
//
// For k variables and T waves, y_t = mu_t + RI + w_t, w_t = B w_{t-1} + zeta_t (t >= 2):
//   Sigma = J Phi J' + A Psi A',  J = 1_T (x) I_k,  A = (I - L (x) B)^-1 (block (t, s) = B^(t-s)),
// Psi = blockdiag(Psi_1, ..., Psi_T): the wave-1 within covariance and the residual
// covariances; Phi = the random-intercept covariance (absent in the CLPM).
#pragma once
#include <vector>

#include <Eigen/Dense>

#include "panel/fiml.hpp"

namespace spiral::panel {

class PanelModel {
 public:
  // free_lagged: one B per wave pair (B_t: wave t-1 -> t, t = 1..T-1, 0-based), lavaan's model
  // without the equality labels; else B equal over the waves.
  PanelModel(int k, int waves, bool random_intercepts, bool free_lagged = false);

  // Parameter vector layout: mu (k*T) | B (row-major: to, from; one block, or one per wave pair
  // under free_lagged) | Phi vech (RI-CLPM only) | Psi_1 vech | ... | Psi_T vech, where vech lists
  // (a, b), a <= b, row by row. This is lavaan's npar: the equality-labelled lagged effects count once.
  long n_parameters() const { return size_; }
  long n_means() const { return p_; }  // the first parameters: mu
  // The effect of `from` at wave t-1 on `to` at wave t (0-based t >= 1; any t when equal).
  long b_index(int to, int from, int wave = 1) const {
    return b_offset_ + (free_lagged_ ? long(wave - 1) * k_ * k_ : 0) + to * k_ + from;
  }
  bool free_lagged() const { return free_lagged_; }
  int lag_sets() const { return free_lagged_ ? waves_ - 1 : 1; }  // distinct B matrices
  long phi_index(int a, int b) const { return phi_offset_ + vech_index(a, b); }
  long psi_index(int wave, int a, int b) const { return psi_offset_ + wave * n_vech_ + vech_index(a, b); }
  bool random_intercepts() const { return random_intercepts_; }

  struct Moments {
    Eigen::VectorXd mu;
    Eigen::MatrixXd sigma;
  };
  Moments implied(const Eigen::VectorXd& theta) const;

  // dlogL/dtheta from d_mu = dlogL/dmu and G (dlogL = tr(G dSigma)), by matrix calculus:
  // dPhi: J'GJ; dPsi_t: (A'GA)_tt; dB_ij: 2 sum_t (A' G Sigma_w)_{(t,i),(t-1,j)}
  // (off-diagonal covariance elements get twice the symmetric entry).
  Eigen::VectorXd gradient(const Eigen::VectorXd& theta, const Eigen::VectorXd& d_mu, const Eigen::MatrixXd& g) const;

  // The covariance parameters in which Sigma is linear (Phi's and the Psi_t's, for which
  // d2 Sigma = 0) and how each moves Sigma at theta: by J (E_ab + E_ba) J' and A_t (E_ab + E_ba)
  // A_t', i.e. rank-two directions of J's and A's columns (A_t = A's block column t).
  struct LinearCovariances {
    std::vector<long> parameters;
    Eigen::MatrixXd vectors;  // [J A]
    std::vector<RankTwoDirection> directions;
  };
  LinearCovariances linear_covariances(const Eigen::VectorXd& theta) const;

  // The expected information per patient of complete data at theta (Magnus & Neudecker
  // 1999, ch. 15: K = Sigma^-1 for the means, 1/2 tr(K dSigma_a K dSigma_b) for the others,
  // dSigma_a of the lagged effects by forward differences, of the others exact): the Hessian
  // of -logL / N when nothing is missing, a starting curvature for the optimizer when
  // something is.
  Eigen::MatrixXd complete_data_information(const Eigen::VectorXd& theta) const;

  // Starting values: observed means, the autoregressive effects `autoregression` (cross-lagged
  // 0), and the observed per-wave variances split between the random intercepts and the within
  // parts. within_share: the part of each variable's observed variance given to the within
  // parts (the rest to the random intercept; 1 in the CLPM), of which the residuals of waves
  // 2.. keep 1 - autoregression^2 (the stationary share of an AR(1)).
  Eigen::VectorXd start(const Eigen::MatrixXd& y, double within_share = 0.5, double autoregression = 0) const;

  // The factor by which each parameter moves when variable v is multiplied by scale(v):
  // means s_v, the effect of `from` on `to` s_to / s_from, a covariance of a and b s_a s_b.
  Eigen::VectorXd parameter_scales(const Eigen::VectorXd& scale) const;

  Eigen::MatrixXd lagged(const Eigen::VectorXd& theta, int wave = 1) const;  // B_t (to, from)
  Eigen::MatrixXd symmetric(const Eigen::VectorXd& theta, long offset) const;  // from a vech block
  long phi_offset() const { return phi_offset_; }
  long psi_offset(int wave) const { return psi_offset_ + wave * n_vech_; }

 private:
  long vech_index(int a, int b) const;
  // m += the symmetric k x k matrix of the vech block at offset.
  void add_symmetric(const Eigen::VectorXd& theta, long offset, Eigen::Ref<Eigen::MatrixXd> m) const;
  // sigma = the covariance of the within parts w (A Psi A'); K = k or Eigen::Dynamic.
  template <int K>
  void fill_within_covariance(const Eigen::VectorXd& theta, Eigen::MatrixXd& sigma) const;
  template <int K>
  Eigen::VectorXd gradient(const Eigen::VectorXd& theta, const Eigen::VectorXd& d_mu, const Eigen::MatrixXd& g) const;
  void add_symmetric_gradient(const Eigen::Ref<const Eigen::MatrixXd>& h, long offset, Eigen::VectorXd& grad) const;

  int k_, waves_;
  bool random_intercepts_, free_lagged_;
  long p_, n_vech_, b_offset_, phi_offset_, psi_offset_, size_;
};

}  // namespace spiral::panel
