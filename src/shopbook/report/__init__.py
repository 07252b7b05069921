"""shopbook.report"""
