// lavaan's multiple-group model (group = ): one PanelModel per group in one parameter vector,
// the lagged effects shared by the groups when they are held equal across them (group.equal on
// the lagged effects, as lavaan's shared labels do), every other parameter the group's own.
// The objective is the groups' FIML likelihoods summed: -logL / N = sum_g (n_g / N) (-logL_g / n_g).
#pragma once
#include <functional>
#include <vector>

#include <Eigen/Dense>

#include "panel/optimize.hpp"
#include "panel/panel_data.hpp"
#include "panel/panel_model.hpp"

namespace spiral::panel {

class GroupedModel {
 public:
  // weights: n_g / N of each group (one group: the model itself, the identity map).
  GroupedModel(const PanelModel& model, std::vector<double> weights, bool equal_lagged);

  const PanelModel& model() const { return model_; }
  int groups() const { return static_cast<int>(index_.size()); }
  long n_parameters() const { return size_; }
  double weight(int g) const { return weights_[std::size_t(g)]; }
  // index(g)[j]: the position of group g's parameter j in the grouped vector.
  const std::vector<long>& index(int g) const { return index_[std::size_t(g)]; }
  Eigen::VectorXd local(const Eigen::VectorXd& theta, int g) const { return theta(index(g)); }
  Eigen::MatrixXd local(const Eigen::MatrixXd& covariance, int g) const { return covariance(index(g), index(g)); }

  // The grouped vector from one vector per group: each parameter the weighted mean of the
  // groups' values for it (a shared lagged effect: of every group's; any other: its group's).
  Eigen::VectorXd combine(const std::vector<Eigen::VectorXd>& per_group) const;
  // The grouped vector with group g's parameter j equal to local(j) in every group.
  Eigen::VectorXd spread(const Eigen::VectorXd& local) const;
  // sum_g w_g P_g' m_g P_g, P_g the map of group g: the groups' matrices (e.g. curvatures) added.
  Eigen::MatrixXd add_matrices(const std::vector<Eigen::MatrixXd>& per_group) const;

  // The objective (fit_panel's -logL / N) and its closed-form Hessian block over the groups'
  // objectives; with one group these are returned as they are.
  Objective objective(std::vector<Objective> per_group) const;
  ExactBlock exact(std::vector<ExactBlock> per_group) const;

 private:
  PanelModel model_;
  std::vector<double> weights_;
  std::vector<std::vector<long>> index_;
  long size_ = 0;
};

}  // namespace spiral::panel
